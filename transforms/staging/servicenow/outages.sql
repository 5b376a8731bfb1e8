-- ServiceNow service outages (cmdb_ci_outage) -> core.outages.
-- The service is the outage's configuration item, named as for every ServiceNow record
-- (servicenow_reference_names), so its availability lines up with its incidents.
WITH service_names AS (
    SELECT sys_id, name FROM servicenow_reference_names() WHERE kind = 'service'
)

SELECT
    'servicenow:' || outage.record_key AS outage_id,
    'servicenow' AS source,
    nullif(outage.record ->> '$.number.value', '') AS number,
    service_names.name AS service,
    CASE WHEN lower(outage.record ->> '$.type.value') IN ('outage', 'degradation', 'planned')
        THEN lower(outage.record ->> '$.type.value') END AS type,
    -- An end that is set but loads empty (a placeholder, an unreadable text) is no running
    -- outage: read as one, it would count as downtime from its begin until now. Without its
    -- begin it is left out of availability, as the quality query lists it.
    CASE
        WHEN NOT servicenow_date_set(outage.record ->> '$.end.value')
            OR servicenow_time(outage.record ->> '$.end.value') IS NOT NULL
            THEN servicenow_time(outage.record ->> '$.begin.value')
    END AS begin_at,
    servicenow_time(outage.record ->> '$.end.value') AS end_at,
    servicenow_time(outage.record ->> '$.sys_updated_on.value') AS updated_at
FROM raw.servicenow_cmdb_ci_outage AS outage
LEFT JOIN service_names ON service_names.sys_id = outage.record ->> '$.cmdb_ci.value'
