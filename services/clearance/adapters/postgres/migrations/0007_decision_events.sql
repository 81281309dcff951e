-- Decisions are published again when the broker redelivers the event that made them, so the
-- transactional outbox (a row written and deleted for every decision) is no longer written: a
-- batch's offsets are committed only after the broker acknowledged its decisions, so a decision
-- stored but never acknowledged has its event read again, found among the parcel's event ids,
-- and its stored decision (found by the event id kept with it) is published again.

-- The event that made each decision (decisions stored before this migration have none: they
-- were published through the outbox).
ALTER TABLE decisions ADD COLUMN event_id text;

-- The outbox table stays, unused, so that the previous release still runs on this schema after a
-- rollback (migrations only add; deploy/README.md, "Rollback"). A later release drops it.
COMMENT ON TABLE outbox IS 'unused since migration 0007 (kept for a rollback to the previous release)';
