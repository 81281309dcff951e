-- Console sessions (issue #20): the browser holds a random session token, never the API key.
-- Only the token's SHA-256 is kept. A session ends at sign-out (its row deleted), when it expires
-- or has been idle too long, or when its key is revoked (every read joins the live key).
CREATE TABLE console_sessions (
    session_hash  text        PRIMARY KEY,
    key_id        text        NOT NULL REFERENCES api_keys (key_id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX console_sessions_key ON console_sessions (key_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
