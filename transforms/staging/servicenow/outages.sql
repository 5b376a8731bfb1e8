-- ServiceNow service outages (cmdb_ci_outage) -> core.outages.
-- The service is the display name of the outage's configuration item.
SELECT
    'servicenow:' || record_key AS outage_id,
    'servicenow' AS source,
    nullif(record ->> '$.number.value', '') AS number,
    nullif(record ->> '$.cmdb_ci.display_value', '') AS service,
    CASE WHEN lower(record ->> '$.type.value') IN ('outage', 'degradation', 'planned')
        THEN lower(record ->> '$.type.value') END AS type,
    servicenow_time(record ->> '$.begin.value') AS begin_at,
    servicenow_time(record ->> '$.end.value') AS end_at,
    servicenow_time(record ->> '$.sys_updated_on.value') AS updated_at
FROM raw.servicenow_cmdb_ci_outage
