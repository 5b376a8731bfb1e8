-- Incidents from every ITSM source in one shape, with the hours they took to resolve; the columns
-- are named here so that a new core column never changes what BI tools see.
CREATE OR REPLACE VIEW bi.incidents AS
SELECT
    incident_id, source, number, opened_at, resolved_at, closed_at, priority, state, service,
    assignment_group, category, channel, reopen_count, reassignment_count, made_sla,
    caused_by_change_id, is_security,
    date_diff('second', opened_at, resolved_at) / 3600.0 AS resolution_hours,
    updated_at
FROM core.incidents;

COMMENT ON VIEW bi.incidents IS 'One row per incident from any ITSM source (times in UTC).';
