-- API keys: only the SHA-256 of each bearer token is stored.
CREATE TABLE api_keys (
    key_id      text        PRIMARY KEY,
    token_hash  text        NOT NULL,
    role        text        NOT NULL CHECK (role IN ('platform', 'officer', 'admin')),
    platform    text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((role = 'platform') = (platform IS NOT NULL))
);

-- The officers' list of current decisions, newest first, with a stable order for the cursor.
CREATE INDEX orders_decided ON orders (decided_at DESC, platform DESC, order_id DESC, shipment_id DESC);
