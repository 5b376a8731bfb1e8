-- Incidents from every ITSM source in one shape, with the hours they took to resolve; the columns
-- are named here so that a new core column never changes what BI tools see. Service and group
-- are named as the KPIs count them (kpi.name_spellings: "EMAIL" is the Email service), so a BI
-- tool grouping by them gets the scorecard's values; the names the record holds come last.
-- The kind a name is looked up as is a column of the left side, not a constant of the join:
-- DuckDB 2.0.1 drops a query's LIMIT when a LEFT JOIN's right side is filtered to nothing (an
-- instance whose names need no other spelling), and a BI tool's `LIMIT 1000` preview read the
-- whole table.
CREATE OR REPLACE VIEW bi.incidents AS
SELECT
    incidents.incident_id, incidents.source, incidents.number, incidents.opened_at,
    incidents.resolved_at, incidents.closed_at, incidents.priority, incidents.state,
    coalesce(services.spelling, incidents.service) AS service,
    coalesce(groups.spelling, incidents.assignment_group) AS assignment_group,
    incidents.category, incidents.channel, incidents.reopen_count, incidents.reassignment_count,
    incidents.made_sla, incidents.caused_by_change_id, incidents.is_security,
    (epoch(incidents.resolved_at) - epoch(incidents.opened_at)) / 3600.0 AS resolution_hours,
    incidents.updated_at,
    incidents.service AS service_as_recorded,
    incidents.assignment_group AS assignment_group_as_recorded
FROM (
    SELECT *, 'service' AS service_kind, 'group' AS group_kind FROM core.incidents
) AS incidents
LEFT JOIN kpi.name_spellings AS services
    ON services.kind = incidents.service_kind AND services.name = incidents.service
LEFT JOIN kpi.name_spellings AS groups
    ON groups.kind = incidents.group_kind AND groups.name = incidents.assignment_group;

COMMENT ON VIEW bi.incidents IS 'One row per incident from any ITSM source (times in UTC).';
