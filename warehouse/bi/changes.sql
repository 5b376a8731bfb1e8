-- Change records from every ITSM source in one shape; the columns are named here so that a new
-- core column never changes what BI tools see. Service and group are named as the KPIs count
-- them (kpi.name_spellings); the names the record holds come last.
-- The kind a name is looked up as is a column of the left side, not a constant of the join:
-- DuckDB 2.0.1 drops a query's LIMIT when a LEFT JOIN's right side is filtered to nothing (an
-- instance whose names need no other spelling), and a BI tool's `LIMIT 1000` preview read the
-- whole table.
CREATE OR REPLACE VIEW bi.changes AS
SELECT
    changes.change_id, changes.source, changes.number, changes.type, changes.risk, changes.state,
    changes.outcome, changes.opened_at, changes.planned_start, changes.planned_end,
    changes.actual_start, changes.actual_end, changes.closed_at,
    coalesce(services.spelling, changes.service) AS service,
    coalesce(groups.spelling, changes.assignment_group) AS assignment_group,
    changes.backed_out, changes.is_production, changes.updated_at,
    changes.service AS service_as_recorded,
    changes.assignment_group AS assignment_group_as_recorded
FROM (
    SELECT *, 'service' AS service_kind, 'group' AS group_kind FROM core.changes
) AS changes
LEFT JOIN kpi.name_spellings AS services
    ON services.kind = changes.service_kind AND services.name = changes.service
LEFT JOIN kpi.name_spellings AS groups
    ON groups.kind = changes.group_kind AND groups.name = changes.assignment_group;

COMMENT ON VIEW bi.changes IS 'One row per change record from any ITSM source (times in UTC).';
