-- Outage values staging could not use, one row per record and field, named by the number.
WITH outages AS (
    SELECT coalesce(nullif(record ->> '$.number.value', ''), record_key) AS number, record
    FROM raw.servicenow_cmdb_ci_outage
),

date_values AS (
    SELECT
        outages.number,
        date_fields.field,
        json_extract_string(outages.record, '$.' || date_fields.field || '.value') AS value
    FROM outages
    CROSS JOIN (VALUES ('begin'), ('end'), ('sys_updated_on')) AS date_fields(field)
),

unparseable_dates AS (
    SELECT number, field, 'unparseable date' AS problem, value
    FROM date_values
    WHERE value <> '' AND servicenow_time(value) IS NULL
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
