-- Resolved incidents, and whether each was ever reopened; an incident counts at its final resolution
-- (resolved_incidents is defined in _facts_input.sql). Sources that never record a reopen count
-- (PagerDuty, Jira, Freshservice) leave it unknown: such incidents are excluded from both sides,
-- as taking them for never reopened would dilute the rate of the sources that do.
WITH incidents_judged AS (
    SELECT
        *,
        CASE
            WHEN resolution_exclusion IS NOT NULL THEN resolution_exclusion
            WHEN reopen_count IS NULL THEN 'excluded: reopen_count unknown'
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
    exclusion IS NULL AND reopen_count > 0 AS in_numerator,
    exclusion IS NULL AS in_denominator,
    exclusion AS note
FROM incidents_judged
