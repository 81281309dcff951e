-- The officers' work queue (held and needs-information parcels) at scale: what the console
-- filters, sorts, counts and searches on, as columns of the parcel's current row, written by the
-- worker with the decision.

-- From the current decision: its reason codes (each once), risk signals and score. From the order: the
-- master air waybill and the tracking number (search, and the master-bill view).
ALTER TABLE orders
    ADD COLUMN reason_codes    text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN risk_signals    text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN risk_score      integer NOT NULL DEFAULT 0,
    ADD COLUMN master_bill     text,
    ADD COLUMN tracking_number text;

-- Parcels stored before this migration: the same values, read from the stored bodies.
UPDATE orders o SET
    reason_codes = ARRAY(  -- each code once, in the order of its first reason
        SELECT r ->> 'code' FROM json_array_elements(d.body -> 'reasons') WITH ORDINALITY AS t(r, n)
        GROUP BY 1 ORDER BY min(n)),
    risk_signals = ARRAY(SELECT json_array_elements_text(d.body -> 'risk' -> 'signals')),
    risk_score = d.risk_score,
    master_bill = o.body -> 'transport' ->> 'master_bill',
    tracking_number = o.body -> 'transport' ->> 'tracking_number'
FROM decisions d
WHERE d.decision_id = o.decision_id;

-- One index per sort of the queue, each the keyset order of its pages (the sort's column, then
-- the oldest decision first, then the parcel key), partial: only queued parcels pay for them.
-- "newest first" reads orders_queue_age backwards; "highest risk first" is -risk_score ascending.
CREATE INDEX orders_queue_age ON orders (decided_at, platform, order_id, shipment_id)
    WHERE status IN ('hold', 'needs_information');
CREATE INDEX orders_queue_risk ON orders ((-risk_score), decided_at, platform, order_id, shipment_id)
    WHERE status IN ('hold', 'needs_information');
CREATE INDEX orders_queue_channel ON orders (channel, decided_at, platform, order_id, shipment_id)
    WHERE status IN ('hold', 'needs_information');
CREATE INDEX orders_queue_destination ON orders (destination, decided_at, platform, order_id, shipment_id)
    WHERE status IN ('hold', 'needs_information');
CREATE INDEX orders_queue_platform ON orders (platform, decided_at, order_id, shipment_id)
    WHERE status IN ('hold', 'needs_information');
-- Filters on one reason code or one risk signal (array containment).
CREATE INDEX orders_queue_reasons ON orders USING gin (reason_codes)
    WHERE status IN ('hold', 'needs_information');
CREATE INDEX orders_queue_signals ON orders USING gin (risk_signals)
    WHERE status IN ('hold', 'needs_information');
-- The counts at the top of the queue (by status, channel and reason, under any filter) read
-- this index alone (an index-only scan), never the orders' wide rows.
CREATE INDEX orders_queue_counts ON orders (status, channel, destination, platform, decided_at)
    INCLUDE (reason_codes, risk_signals) WHERE status IN ('hold', 'needs_information');
-- Search and the master-bill view, whatever the status (an order id is found through the primary
-- key: PostgreSQL skips over its few platforms).
CREATE INDEX orders_master_bill ON orders (master_bill) WHERE master_bill IS NOT NULL;
CREATE INDEX orders_tracking_number ON orders (tracking_number) WHERE tracking_number IS NOT NULL;
-- The dashboard's decisions per hour by channel, read from this index alone over a day.
CREATE INDEX decisions_decided ON decisions (decided_at) INCLUDE (channel);
