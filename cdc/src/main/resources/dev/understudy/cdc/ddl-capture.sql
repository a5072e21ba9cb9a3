-- Understudy's DDL capture on the master (installed by MasterSetup, idempotent).
--
-- Logical decoding carries no DDL. After each DDL command, the event trigger writes the text of
-- the statement the client sent into the change stream as a transactional logical decoding
-- message: it arrives in the same source transaction, between the row changes that came before
-- and after the command, and the applier runs it on each replica at that very point.
--
-- Message content, one field per line: ordinal, role, search_path, command tag, statement text.
-- The ordinal counts the DDL commands run by one client statement (a query string holding several
-- statements fires the trigger once per DDL command; the applier runs the ordinal-th one).

-- this script's own commands are not written into the stream (nor are the nested ones below)
SELECT set_config('understudy.ddl_nested', 'on', false);

CREATE SCHEMA IF NOT EXISTS _understudy;

-- Remembers, for the ddl_command_end trigger that follows, whether a DROP dropped only temporary
-- objects (which replicas never had).
CREATE OR REPLACE FUNCTION _understudy.capture_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $understudy$
BEGIN
    PERFORM set_config('understudy.ddl_dropped_temporary',
            CASE WHEN bool_and(is_temporary) THEN 'on' ELSE 'off' END, true)
    FROM pg_event_trigger_dropped_objects() WHERE original;
END
$understudy$;

-- Counts the DDL commands of the current client statement and writes this one into the stream
-- (a NULL tag: counted only, a command on temporary objects, which replicas never have).
CREATE OR REPLACE FUNCTION _understudy.write_ddl(tag text) RETURNS void
LANGUAGE plpgsql AS $understudy$
DECLARE
    statement text := statement_timestamp()::text || ' ' || md5(current_query());
    ordinal integer := 1;
BEGIN
    IF current_setting('understudy.ddl_statement', true) = statement THEN
        ordinal := current_setting('understudy.ddl_ordinal')::integer + 1;
    END IF;
    PERFORM set_config('understudy.ddl_statement', statement, false);
    PERFORM set_config('understudy.ddl_ordinal', ordinal::text, false);
    IF tag IS NOT NULL THEN
        PERFORM _understudy.emit_ddl(concat_ws(E'\n', ordinal, current_user, current_setting('search_path'), tag,
                current_query()));
    END IF;
END
$understudy$;

-- CREATE TABLE ... AS writes its rows before ddl_command_end fires; the replica must create the
-- table before those rows reach it, so this command is written into the stream when it starts.
CREATE OR REPLACE FUNCTION _understudy.capture_ddl_start() RETURNS event_trigger
LANGUAGE plpgsql AS $understudy$
BEGIN
    PERFORM _understudy.write_ddl(tg_tag);
END
$understudy$;

CREATE OR REPLACE FUNCTION _understudy.capture_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $understudy$
DECLARE
    keyless regclass;
    temporary boolean := EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands())
            AND NOT EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands()
                            WHERE schema_name IS NULL OR schema_name NOT LIKE 'pg\_temp%');
BEGIN
    IF current_setting('understudy.ddl_nested', true) = 'on' THEN
        RETURN; -- the REPLICA IDENTITY change below
    END IF;
    IF tg_tag = 'SELECT INTO' AND NOT temporary THEN
        -- its rows, written before this trigger, would reach the replicas before their table
        RAISE EXCEPTION 'SELECT INTO a permanent table cannot be replicated by Understudy'
            USING ERRCODE = 'feature_not_supported', HINT = 'Use CREATE TABLE ... AS instead.';
    END IF;
    IF tg_tag LIKE 'DROP %' THEN
        IF current_setting('understudy.ddl_dropped_temporary', true) = 'on' THEN
            PERFORM set_config('understudy.ddl_dropped_temporary', 'off', true);
            PERFORM _understudy.write_ddl(NULL);
        ELSE
            PERFORM _understudy.write_ddl(tg_tag);
        END IF;
    ELSIF tg_tag <> 'CREATE TABLE AS' THEN -- written when it started
        PERFORM _understudy.write_ddl(CASE WHEN temporary THEN NULL ELSE tg_tag END);
    END IF;
    -- a table without a primary key gets REPLICA IDENTITY FULL, or the master would refuse its
    -- UPDATEs and DELETEs (55000) and the replicas could not find the rows they change
    PERFORM set_config('understudy.ddl_nested', 'on', true);
    FOR keyless IN
        SELECT DISTINCT c.oid::regclass FROM pg_event_trigger_ddl_commands() d JOIN pg_class c ON c.oid = d.objid
        WHERE d.classid = 'pg_class'::regclass AND c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
          AND c.relreplident = 'd'
          AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
    LOOP
        EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', keyless);
    END LOOP;
    PERFORM set_config('understudy.ddl_nested', 'off', true);
END
$understudy$;

-- Writing into the stream needs the REPLICATION attribute, which application roles lack: this
-- one function runs with its owner's rights (the capture's role) and does only that.
CREATE OR REPLACE FUNCTION _understudy.emit_ddl(content text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $understudy$
    SELECT pg_logical_emit_message(true, 'understudy.ddl', content)
$understudy$;
REVOKE ALL ON FUNCTION _understudy.emit_ddl(text) FROM PUBLIC;
GRANT USAGE ON SCHEMA _understudy TO PUBLIC;
GRANT EXECUTE ON FUNCTION _understudy.emit_ddl(text) TO PUBLIC;

-- tables that exist already
DO $understudy$
DECLARE
    keyless regclass;
BEGIN
    FOR keyless IN
        SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND c.relreplident = 'd'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
          AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
    LOOP
        EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', keyless);
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'understudy_drop') THEN
        CREATE EVENT TRIGGER understudy_drop ON sql_drop EXECUTE FUNCTION _understudy.capture_drop();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'understudy_ddl_start') THEN
        CREATE EVENT TRIGGER understudy_ddl_start ON ddl_command_start WHEN TAG IN ('CREATE TABLE AS')
            EXECUTE FUNCTION _understudy.capture_ddl_start();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'understudy_ddl') THEN
        CREATE EVENT TRIGGER understudy_ddl ON ddl_command_end EXECUTE FUNCTION _understudy.capture_ddl();
    END IF;
END
$understudy$;
