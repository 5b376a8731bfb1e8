-- ServiceNow SLA clocks (task_sla) -> core.sla_records.
-- The clock's task is looked up among the loaded incidents, changes and requested items for its
-- type, service and priority; durations like "1970-01-01 08:00:00" are seconds since the epoch.
WITH sla_fields AS (
    SELECT
        record_key,
        nullif(record ->> '$.task.value', '') AS task_sys_id,
        nullif(record ->> '$.task.display_value', '') AS task_number,
        nullif(record ->> '$.sla.display_value', '') AS sla_name,
        nullif(lower(record ->> '$.stage.value'), '') AS stage,
        try_cast(nullif(record ->> '$.has_breached.value', '') AS BOOLEAN) AS breached,
        servicenow_time(record ->> '$.start_time.value') AS start_time,
        servicenow_time(record ->> '$.end_time.value') AS end_time,
        servicenow_time(record ->> '$.planned_end_time.value') AS breach_time,
        epoch(servicenow_time(record ->> '$.pause_duration.value')) AS pause_duration_seconds,
        servicenow_time(record ->> '$.sys_updated_on.value') AS updated_at
    FROM raw.servicenow_task_sla
),

tasks AS (
    SELECT record_key AS task_sys_id, 'incident' AS task_type,
           coalesce(nullif(record ->> '$.business_service.display_value', ''),
                    nullif(record ->> '$.cmdb_ci.display_value', '')) AS service,
           try_cast(record ->> '$.priority.value' AS INTEGER) AS priority
    FROM raw.servicenow_incident
    UNION ALL
    SELECT record_key, 'change',
           coalesce(nullif(record ->> '$.business_service.display_value', ''),
                    nullif(record ->> '$.cmdb_ci.display_value', '')),
           NULL
    FROM raw.servicenow_change_request
    UNION ALL
    SELECT record_key, 'request',
           coalesce(nullif(record ->> '$.business_service.display_value', ''),
                    nullif(record ->> '$.cmdb_ci.display_value', ''),
                    nullif(record ->> '$.cat_item.display_value', '')),
           NULL
    FROM raw.servicenow_sc_req_item
)

SELECT
    'servicenow:' || sla.record_key AS sla_record_id,
    'servicenow' AS source,
    'servicenow:' || sla.task_sys_id AS task_id,
    sla.task_number,
    coalesce(
        tasks.task_type,
        CASE
            WHEN sla.task_number LIKE 'INC%' THEN 'incident'
            WHEN sla.task_number LIKE 'CHG%' THEN 'change'
            WHEN sla.task_number LIKE 'RITM%' THEN 'request'
        END
    ) AS task_type,
    sla.sla_name,
    sla.stage,
    sla.breached,
    sla.start_time,
    sla.end_time,
    sla.breach_time,
    sla.pause_duration_seconds,
    tasks.service,
    CASE WHEN tasks.priority BETWEEN 1 AND 5 THEN tasks.priority END AS priority,
    sla.updated_at
FROM sla_fields AS sla
LEFT JOIN tasks USING (task_sys_id)
