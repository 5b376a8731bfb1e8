-- Hours to restore service: resolution time of major incidents and of incidents a change caused.
WITH restoring_incidents AS (
    SELECT *
    FROM kpi.completed_incidents
    WHERE list_contains(getvariable('major_priorities'), priority)
        OR (getvariable('include_change_caused') AND caused_by_change_id IS NOT NULL)
),
incidents_judged AS (
    SELECT
        *,
        CASE
            WHEN list_contains(getvariable('cancelled_states'), state) THEN 'excluded: canceled'
            WHEN resolved_at IS NULL THEN 'excluded: closed without resolved_at'
            WHEN opened_at IS NULL THEN 'excluded: no opened_at'
            WHEN resolution_hours < 0 THEN 'excluded: resolved before opened'
        END AS exclusion
    FROM restoring_incidents
)
SELECT
    'incident' AS record_table,
    incident_id AS record_id,
    completed_at,
    service,
    assignment_group,
    priority_label AS priority,
    source,
    resolution_hours AS num,
    1.0 AS den,
    resolution_hours AS x,
    exclusion IS NULL AS in_numerator,
    exclusion IS NULL AS in_denominator,
    exclusion AS note
FROM incidents_judged
