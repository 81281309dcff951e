-- The worker's state: current parcels, the append-only decision history, running totals, the
-- outbox of decisions not yet confirmed by the broker, and inspection results.

-- One row per parcel (platform, order_id, shipment_id): its latest order revision and its current
-- decision. Phone and identity numbers are never stored (only the keyed hash consignee_ref).
CREATE TABLE orders (
    platform          text        NOT NULL,
    order_id          text        NOT NULL,
    shipment_id       text        NOT NULL,
    revision          integer     NOT NULL,
    event_ids         text[]      NOT NULL,  -- every event applied to this parcel (redelivery = no-op)
    consignee_id      text        NOT NULL,
    consignee_ref     text        NOT NULL,
    seller_id         text        NOT NULL,
    destination       text        NOT NULL,
    occurred_at       timestamptz NOT NULL,
    body              json        NOT NULL,  -- the order as assessed, without phone or identity number
    decision_id       uuid        NOT NULL,
    decision_revision integer     NOT NULL,
    status            text        NOT NULL,
    channel           text        NOT NULL,
    decided_at        timestamptz NOT NULL,
    PRIMARY KEY (platform, order_id, shipment_id)
);
-- The officers' queue: current holds by destination, newest first.
-- Bodies are a few KB: stored out of line uncompressed, which halves the cost of a batch write
-- (pglz compression was the largest part of it) for some disk space.
ALTER TABLE orders ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE INDEX orders_status_queue ON orders (status, destination, decided_at DESC);

-- Every decision ever published (one row per decision revision), with the columns reports filter on.
CREATE TABLE decisions (
    decision_id           uuid        PRIMARY KEY,
    platform              text        NOT NULL,
    order_id              text        NOT NULL,
    shipment_id           text        NOT NULL,
    decision_revision     integer     NOT NULL,
    order_revision        integer     NOT NULL,
    status                text        NOT NULL,
    channel               text        NOT NULL,
    category              text        NOT NULL,
    destination           text        NOT NULL,
    currency              text        NOT NULL,
    assessment_date       date        NOT NULL,
    decided_at            timestamptz NOT NULL,
    customs_value         numeric     NOT NULL,
    duty                  numeric     NOT NULL,
    tax                   numeric     NOT NULL,
    excise                numeric     NOT NULL,
    fees                  numeric     NOT NULL,
    total_due             numeric     NOT NULL,
    collected_at_checkout numeric     NOT NULL,
    risk_score            integer     NOT NULL,
    rule_pack             text        NOT NULL,  -- id@version
    trace_id              text,
    body                  json        NOT NULL,  -- the decision exactly as published
    -- Never two decisions for the same parcel revision, whatever crashes and redeliveries happen.
    UNIQUE (platform, order_id, shipment_id, decision_revision)
);
ALTER TABLE decisions ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE INDEX decisions_destination_date ON decisions (destination, assessment_date);

-- Anti-splitting: each parcel's contribution to a running total (sum over key = the total).
-- Keyed per parcel so an amendment replaces its contribution and a cancellation removes it.
CREATE TABLE consignee_totals (
    key         text    NOT NULL,
    platform    text    NOT NULL,
    order_id    text    NOT NULL,
    shipment_id text    NOT NULL,
    value       numeric NOT NULL,
    PRIMARY KEY (key, platform, order_id, shipment_id)
);
CREATE INDEX consignee_totals_parcel ON consignee_totals (platform, order_id, shipment_id);

-- Decisions stored but not yet acknowledged by the broker (transactional outbox).
CREATE TABLE outbox (
    decision_id uuid        PRIMARY KEY REFERENCES decisions (decision_id),
    topic       text        NOT NULL,
    key         text,
    traceparent text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Officers' and scanners' results, and the decision revision each produced.
CREATE TABLE inspections (
    platform           text        NOT NULL,
    event_id           text        NOT NULL,
    order_id           text        NOT NULL,
    shipment_id        text        NOT NULL,
    inspected_decision uuid        NOT NULL,
    outcome            text        NOT NULL,
    officer_id         text        NOT NULL,
    occurred_at        timestamptz NOT NULL,
    body               json        NOT NULL,
    result_decision    uuid,
    PRIMARY KEY (platform, event_id)
);
CREATE INDEX inspections_parcel ON inspections (platform, order_id, shipment_id);
