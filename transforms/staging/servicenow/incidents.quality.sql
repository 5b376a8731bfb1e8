-- Incident values staging could not use, one row per record and field, named by the number.
WITH incidents AS (
    SELECT
        coalesce(nullif(record ->> '$.number.value', ''), record_key) AS number,
        record
    FROM raw.servicenow_incident
),

unparseable_dates AS (
    SELECT number, field, problem, value
    FROM servicenow_unparseable_dates(
        'raw.servicenow_incident',
        ['opened_at', 'resolved_at', 'closed_at', 'sys_updated_on']
    )
),

missing_opened AS (
    SELECT number, 'opened_at' AS field, 'missing opened_at' AS problem, NULL AS value
    FROM incidents
    WHERE NOT servicenow_date_set(record ->> '$.opened_at.value')
),

unknown_states AS (
    SELECT number, 'state' AS field, 'unknown state code' AS problem,
           record ->> '$.state.value' AS value
    FROM incidents
    WHERE coalesce(record ->> '$.state.value', '') NOT IN ('1', '2', '3', '6', '7', '8')
),

unknown_priorities AS (
    SELECT number, 'priority' AS field, 'unknown priority code' AS problem,
           record ->> '$.priority.value' AS value
    FROM incidents
    WHERE coalesce(record ->> '$.priority.value', '') NOT IN ('1', '2', '3', '4', '5')
),

-- Counts and the SLA flag the KPIs read (reopen rate, first contact resolution, SLA
-- attainment): a value set but unreadable leaves the incident out of that KPI.
unreadable_counts AS (
    SELECT number, counts.field, 'not a whole number (left unknown)' AS problem,
           record ->> ('$.' || counts.field || '.value') AS value
    FROM incidents, unnest(['reopen_count', 'reassignment_count']) AS counts(field)
    WHERE coalesce(record ->> ('$.' || counts.field || '.value'), '') <> ''
        AND servicenow_count(record ->> ('$.' || counts.field || '.value')) IS NULL
),

unreadable_made_sla AS (
    SELECT number, field, problem, value
    FROM servicenow_unreadable_flags('raw.servicenow_incident', ['made_sla'])
),

resolved_before_opened AS (
    SELECT number, 'resolved_at' AS field,
           'resolved before opened (resolved_at left empty)' AS problem,
           record ->> '$.resolved_at.value' AS value
    FROM incidents
    WHERE servicenow_time(record ->> '$.resolved_at.value')
        < servicenow_time(record ->> '$.opened_at.value')
),

-- Resolved (6) or closed (7) with neither time, as an import or a script that bypasses the
-- business rules can leave it: every incident KPI needs one, so none counts the incident.
ended_without_time AS (
    SELECT number, 'resolved_at' AS field,
           CASE record ->> '$.state.value' WHEN '6' THEN 'resolved' ELSE 'closed' END
               || ' without resolved_at or closed_at (no end time: not counted)' AS problem,
           NULL AS value
    FROM incidents
    WHERE record ->> '$.state.value' IN ('6', '7')
        AND NOT servicenow_date_set(record ->> '$.resolved_at.value')
        AND NOT servicenow_date_set(record ->> '$.closed_at.value')
),

problems AS (
    SELECT * FROM unparseable_dates
    UNION ALL SELECT * FROM missing_opened
    UNION ALL SELECT * FROM unknown_states
    UNION ALL SELECT * FROM unknown_priorities
    UNION ALL SELECT * FROM unreadable_counts
    UNION ALL SELECT * FROM unreadable_made_sla
    UNION ALL SELECT * FROM resolved_before_opened
    UNION ALL SELECT * FROM ended_without_time
)

SELECT
    'servicenow' AS source,
    'incidents' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
