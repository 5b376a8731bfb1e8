-- Resolved incidents, and whether each was ever reopened; an incident counts at its final resolution.
WITH resolved_incidents AS (
    SELECT
        *,
        CASE
            WHEN list_contains(getvariable('cancelled_states'), state) THEN 'excluded: canceled'
            WHEN resolved_at IS NULL THEN 'excluded: closed without resolved_at'
        END AS exclusion
    FROM kpi.completed_incidents
)
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
    exclusion IS NULL AND coalesce(reopen_count, 0) > 0 AS in_numerator,
    exclusion IS NULL AS in_denominator,
    coalesce(exclusion, CASE WHEN reopen_count IS NULL THEN 'reopen_count unknown, counted as not reopened' END)
        AS note
FROM resolved_incidents
