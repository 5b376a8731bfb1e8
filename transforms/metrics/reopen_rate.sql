-- Resolved incidents, and whether each was ever reopened; an incident counts at its final resolution
-- (resolved_incidents is defined in _facts_input.sql).
SELECT
    'incident' AS record_table,
    incident_id AS record_id,
    completed_at,
    service,
    assignment_group,
    priority_label AS priority,
    source,
    1.0 AS num,
    1.0 AS den,
    resolution_exclusion IS NULL AND coalesce(reopen_count, 0) > 0 AS in_numerator,
    resolution_exclusion IS NULL AS in_denominator,
    coalesce(
        resolution_exclusion,
        CASE WHEN reopen_count IS NULL THEN 'reopen_count unknown, counted as not reopened' END
    ) AS note
FROM resolved_incidents
