-- Trust boundaries (issue #20).

-- A platform's amendment or cancellation of a parcel in customs' hands (held, refused) is refused
-- with a decision saying so; meanwhile an officer may still answer the decision they were shown.
ALTER TABLE orders ADD COLUMN control_decision uuid;

-- The consignee-velocity signal counts a consignee's parcels on one platform by when the service
-- first saw them: occurred_at is the platform's own claim, which a backdated order would abuse.
-- Existing parcels were first seen when their first decision was made.
ALTER TABLE orders ADD COLUMN first_seen_at timestamptz;
UPDATE orders o SET first_seen_at = d.decided_at FROM decisions d
 WHERE d.platform = o.platform AND d.order_id = o.order_id AND d.shipment_id = o.shipment_id
   AND d.decision_revision = 1;
UPDATE orders SET first_seen_at = decided_at WHERE first_seen_at IS NULL;
ALTER TABLE orders ALTER COLUMN first_seen_at SET DEFAULT now();
ALTER TABLE orders ALTER COLUMN first_seen_at SET NOT NULL;
DROP INDEX orders_consignee_recent;
CREATE INDEX orders_consignee_recent ON orders (platform, consignee_ref, first_seen_at);

-- The administration's AEO registry (`clearance aeo load FILE` replaces it): the risk discount of
-- a trusted seller comes from here, never from the order's own `seller.aeo`.
CREATE TABLE aeo_certificates (
    certificate text        PRIMARY KEY,
    platform    text        NOT NULL,
    seller_id   text        NOT NULL,
    valid_from  date        NOT NULL,
    valid_until date,
    issued_by   text,
    loaded_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX aeo_certificates_seller ON aeo_certificates (platform, seller_id);
