-- A worker's batch is stored by one call of store_batch: one round trip to the database instead of
-- about ten (BEGIN, the totals' locks and check, a COPY per table in two round trips each,
-- COMMIT). At a thousand orders a second the worker's batches are ten or so orders, and the round
-- trips, not the rows, were most of the database's CPU and of the time an order waited (#23).
-- One statement is one transaction: all of the batch is stored, or none of it.
--
-- The rows travel as arrays of the composite types below, in the columns' order of the
-- worker's adapter (clearance.adapters.postgres.parcels). This migration only adds: the previous
-- release, which writes with COPY, still runs on this schema after a rollback.

CREATE TYPE order_row AS (
    platform          text,
    order_id          text,
    shipment_id       text,
    revision          integer,
    event_ids         text[],
    consignee_id      text,
    consignee_ref     text,
    seller_id         text,
    destination       text,
    occurred_at       timestamptz,
    body              json,
    decision_id       uuid,
    decision_revision integer,
    status            text,
    channel           text,
    decided_at        timestamptz,
    control_decision  uuid,
    reason_codes      text[],
    risk_signals      text[],
    risk_score        integer,
    master_bill       text,
    tracking_number   text
);

CREATE TYPE decision_row AS (
    decision_id           uuid,
    platform              text,
    order_id              text,
    shipment_id           text,
    decision_revision     integer,
    order_revision        integer,
    status                text,
    channel               text,
    category              text,
    destination           text,
    currency              text,
    assessment_date       date,
    decided_at            timestamptz,
    customs_value         numeric,
    duty                  numeric,
    tax                   numeric,
    excise                numeric,
    fees                  numeric,
    total_due             numeric,
    collected_at_checkout numeric,
    risk_score            integer,
    rule_pack             text,
    trace_id              text,
    body                  json,
    event_id              text
);

CREATE TYPE total_row AS (
    key         text,
    platform    text,
    order_id    text,
    shipment_id text,
    value       numeric
);

CREATE TYPE inspection_row AS (
    platform           text,
    event_id           text,
    order_id           text,
    shipment_id        text,
    inspected_decision uuid,
    outcome            text,
    officer_id         text,
    occurred_at        timestamptz,
    body               json,
    result_decision    uuid
);

-- totals_read: each running total the batch was planned on (key, the sum it read). Batches that
-- read the same totals are serialised (advisory locks taken in one order, so two never wait on
-- each other in a circle), then the stored sums are compared with what was read: a batch another
-- worker committed in between changed one, and this batch is refused (SQLSTATE CL001) to be
-- planned again on the new totals. Each statement of the function reads a fresh snapshot, so the
-- comparison sees what was committed while the lock was awaited.
-- replaced_totals: the parcels (platform, order_id, shipment_id) whose contributions to the running
-- totals are replaced by the rows of new_totals.
CREATE FUNCTION store_batch(
    totals_read_keys text[],
    totals_read_sums numeric[],
    new_orders order_row[],
    changed_orders order_row[],
    new_decisions decision_row[],
    replaced_platforms text[],
    replaced_order_ids text[],
    replaced_shipment_ids text[],
    new_totals total_row[],
    new_inspections inspection_row[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    IF cardinality(totals_read_keys) > 0 THEN
        PERFORM pg_advisory_xact_lock(id) FROM (
            SELECT DISTINCT hashtextextended(k, 20) AS id FROM unnest(totals_read_keys) AS k
            ORDER BY id
        ) AS locks;
        SELECT count(*) INTO changed
        FROM unnest(totals_read_keys, totals_read_sums) AS r(key, sum)
        WHERE r.sum <> (SELECT coalesce(sum(t.value), 0) FROM consignee_totals t WHERE t.key = r.key);
        IF changed > 0 THEN
            RAISE EXCEPTION '% running total(s) changed by another worker', changed
                USING ERRCODE = 'CL001';
        END IF;
    END IF;

    INSERT INTO orders (platform, order_id, shipment_id, revision, event_ids, consignee_id,
        consignee_ref, seller_id, destination, occurred_at, body, decision_id, decision_revision,
        status, channel, decided_at, control_decision, reason_codes, risk_signals, risk_score,
        master_bill, tracking_number)
    SELECT * FROM unnest(new_orders);

    -- A parcel's identity (consignee, seller, destination, time) stays as first stored; a zombie's
    -- older revision never overwrites a newer one.
    UPDATE orders o SET revision = n.revision, event_ids = n.event_ids,
        consignee_ref = n.consignee_ref, body = n.body, decision_id = n.decision_id,
        decision_revision = n.decision_revision, status = n.status, channel = n.channel,
        decided_at = n.decided_at, control_decision = n.control_decision,
        reason_codes = n.reason_codes, risk_signals = n.risk_signals, risk_score = n.risk_score,
        master_bill = n.master_bill, tracking_number = n.tracking_number
    FROM unnest(changed_orders) AS n
    WHERE o.platform = n.platform AND o.order_id = n.order_id AND o.shipment_id = n.shipment_id
        AND o.decision_revision <= n.decision_revision;

    INSERT INTO decisions (decision_id, platform, order_id, shipment_id, decision_revision,
        order_revision, status, channel, category, destination, currency, assessment_date,
        decided_at, customs_value, duty, tax, excise, fees, total_due, collected_at_checkout,
        risk_score, rule_pack, trace_id, body, event_id)
    SELECT * FROM unnest(new_decisions);

    DELETE FROM consignee_totals t
    USING unnest(replaced_platforms, replaced_order_ids, replaced_shipment_ids)
        AS p(platform, order_id, shipment_id)
    WHERE t.platform = p.platform AND t.order_id = p.order_id AND t.shipment_id = p.shipment_id;

    INSERT INTO consignee_totals (key, platform, order_id, shipment_id, value)
    SELECT * FROM unnest(new_totals);

    INSERT INTO inspections (platform, event_id, order_id, shipment_id, inspected_decision,
        outcome, officer_id, occurred_at, body, result_decision)
    SELECT * FROM unnest(new_inspections)
    ON CONFLICT DO NOTHING;
END
$$;
