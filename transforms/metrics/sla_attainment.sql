-- SLA clocks that stopped in the period, met or breached; sources without SLA clocks fall back to
-- the final made_sla of each incident at its resolution.
WITH sources_with_sla_records AS (
    SELECT DISTINCT source FROM core.sla_records
),
sla_clocks AS (
    SELECT
        'sla_record' AS record_table,
        sla_record_id AS record_id,
        end_time AS completed_at,
        service,
        CAST(priority AS VARCHAR) AS priority,
        source,
        NOT coalesce(breached, lower(stage) = 'breached') AS met,
        -- a stopped clock that says neither breached nor not is no evidence either way
        CASE
            WHEN breached IS NULL AND lower(stage) <> 'breached' THEN 'excluded: breached unknown'
        END AS exclusion
    FROM core.sla_records
    WHERE getvariable('basis') IN ('auto', 'sla_records')
        AND end_time IS NOT NULL
        AND list_contains(getvariable('completed_stages'), lower(stage))
),
incident_outcomes AS (
    SELECT
        'incident' AS record_table,
        i.incident_id AS record_id,
        i.completed_at,
        i.service,
        i.priority_label AS priority,
        i.source,
        i.made_sla AS met,
        CASE
            WHEN list_contains(getvariable('cancelled_states'), i.state) THEN 'excluded: canceled'
            WHEN NOT i.has_ended THEN 'excluded: not resolved or closed (still open)'
            WHEN i.made_sla IS NULL THEN 'excluded: made_sla unknown'
        END AS exclusion
    FROM completed_incidents AS i
    WHERE getvariable('basis') = 'made_sla'
        OR (getvariable('basis') = 'auto'
            AND i.source NOT IN (SELECT source FROM sources_with_sla_records))
),
sla_outcomes AS (
    SELECT * FROM sla_clocks
    UNION ALL
    SELECT * FROM incident_outcomes
)
SELECT
    record_table,
    record_id,
    completed_at,
    service,
    priority,
    source,
    1.0 AS num,
    1.0 AS den,
    exclusion IS NULL AND met AS in_numerator,
    exclusion IS NULL AS in_denominator,
    exclusion AS note
FROM sla_outcomes
