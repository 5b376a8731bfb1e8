-- Resolved incidents, and whether each was resolved without being reassigned
-- (resolved_incidents is defined in _facts_input.sql).
WITH incidents_judged AS (
    SELECT
        *,
        CASE
            WHEN resolution_exclusion IS NOT NULL THEN resolution_exclusion
            WHEN reassignment_count IS NULL THEN 'excluded: reassignment_count unknown'
        END AS exclusion
    FROM resolved_incidents
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
    exclusion IS NULL AND reassignment_count = 0 AS in_numerator,
    exclusion IS NULL AS in_denominator,
    exclusion AS note
FROM incidents_judged
