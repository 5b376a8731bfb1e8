-- Hours from opening to resolution of security incidents, counted in the period they were resolved.
WITH security_incidents AS (
    SELECT *
    FROM kpi.completed_incidents
    WHERE coalesce(is_security, false)
        OR list_contains(getvariable('security_categories'), lower(category))
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
    FROM security_incidents
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
