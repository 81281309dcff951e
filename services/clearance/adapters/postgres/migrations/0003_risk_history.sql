-- What the risk signals ask of storage: has this seller been seen, how many parcels has this
-- consignee sent lately.
CREATE INDEX orders_seller ON orders (platform, seller_id);
CREATE INDEX orders_consignee_recent ON orders (consignee_ref, occurred_at);
