-- Change records from every ITSM source in one shape; the columns are named here so that a new
-- core column never changes what BI tools see.
CREATE OR REPLACE VIEW bi.changes AS
SELECT
    change_id, source, number, type, risk, state, outcome, opened_at, planned_start, planned_end,
    actual_start, actual_end, closed_at, service, assignment_group, backed_out, is_production,
    updated_at
FROM core.changes;

COMMENT ON VIEW bi.changes IS 'One row per change record from any ITSM source (times in UTC).';
