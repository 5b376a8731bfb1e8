-- Outage values staging could not use, one row per record and field, named by the number.
WITH outages AS (
    SELECT coalesce(nullif(record ->> '$.number.value', ''), record_key) AS number, record
    FROM raw.servicenow_cmdb_ci_outage
),

unparseable_dates AS (
    SELECT number, field, problem, value
    FROM servicenow_unparseable_dates(
        'raw.servicenow_cmdb_ci_outage',
        ['begin', 'end', 'sys_updated_on']
    )
),

unknown_types AS (
    SELECT number, 'type' AS field, 'unknown outage type' AS problem,
           record ->> '$.type.value' AS value
    FROM outages
    WHERE lower(coalesce(record ->> '$.type.value', '')) NOT IN
        ('outage', 'degradation', 'planned')
),

ended_before_began AS (
    SELECT number, 'end' AS field, 'end before begin' AS problem,
           record ->> '$.end.value' AS value
    FROM outages
    WHERE servicenow_time(record ->> '$.end.value')
        < servicenow_time(record ->> '$.begin.value')
),

problems AS (
    SELECT * FROM unparseable_dates
    UNION ALL SELECT * FROM unknown_types
    UNION ALL SELECT * FROM ended_before_began
)

SELECT
    'servicenow' AS source,
    'outages' AS table_name,
    number AS record_key,
    field,
    problem,
    value
FROM problems
