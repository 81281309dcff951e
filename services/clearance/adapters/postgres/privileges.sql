-- Least privilege for the processes, applied by `clearance migrate` after the migrations, on every
-- run (idempotent: a role the deployment creates later gets its grants at the next run).
--
--   the owner (whoever runs `clearance migrate`, e.g. CloudNativePG's `clearance`): owns the
--     tables, changes the schema, loads the AEO registry;
--   clearance_worker: reads and writes the worker's tables; decisions and inspections only
--     appended (never rewritten), the AEO registry and the migrations read, API keys not at all;
--   clearance_api: reads what officers, platforms and reports see, and keeps the API keys and
--     the console's sessions.
--
-- The roles are made here, without LOGIN, when the migrating role may create roles; otherwise
-- the deployment makes them (deploy/: CloudNativePG managed roles, with LOGIN and a password)
-- and this file only grants. Without the roles nothing is granted (every process runs as the
-- owner, as before).
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['clearance_worker', 'clearance_api'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', name);
            EXCEPTION
                WHEN insufficient_privilege THEN
                    RAISE NOTICE 'role % does not exist and cannot be made here: not granted', name;
                WHEN duplicate_object THEN
                    NULL;  -- made by a migration of another schema at the same moment
            END;
        END IF;
    END LOOP;

    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'clearance_worker') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO clearance_worker', current_schema());
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM clearance_worker', current_schema());
        GRANT SELECT, INSERT, UPDATE ON orders TO clearance_worker;
        GRANT SELECT, INSERT ON decisions, inspections TO clearance_worker;
        GRANT SELECT, INSERT, DELETE ON consignee_totals TO clearance_worker;
        -- UPDATE: the outbox is claimed with SELECT ... FOR UPDATE SKIP LOCKED
        GRANT SELECT, INSERT, UPDATE, DELETE ON outbox TO clearance_worker;
        GRANT SELECT ON aeo_certificates, schema_migrations TO clearance_worker;
    END IF;

    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'clearance_api') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO clearance_api', current_schema());
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM clearance_api', current_schema());
        GRANT SELECT ON orders, decisions, inspections, aeo_certificates, schema_migrations
            TO clearance_api;
        GRANT SELECT, INSERT, UPDATE ON api_keys TO clearance_api;
        GRANT SELECT, INSERT, UPDATE, DELETE ON console_sessions TO clearance_api;
    END IF;
END
$$;
