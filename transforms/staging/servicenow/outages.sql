-- ServiceNow service outages (cmdb_ci_outage) -> core.outages.
-- The service is the display name of the outage's configuration item.
SELECT
    'servicenow:' || record_key AS outage_id,
    'servicenow' AS source,
    nullif(record ->> '$.number.value', '') AS number,
    nullif(record ->> '$.cmdb_ci.display_value', '') AS service,
    CASE WHEN lower(record ->> '$.type.value') IN ('outage', 'degradation', 'planned')
        THEN lower(record ->> '$.type.value') END AS type,
    try_strptime(record ->> '$.begin.value', '%Y-%m-%d %H:%M:%S') AT TIME ZONE 'UTC' AS begin_at,
    try_strptime(record ->> '$.end.value', '%Y-%m-%d %H:%M:%S') AT TIME ZONE 'UTC' AS end_at,
    try_strptime(record ->> '$.sys_updated_on.value', '%Y-%m-%d %H:%M:%S') AT TIME ZONE 'UTC'
        AS updated_at
FROM raw.servicenow_cmdb_ci_outage
