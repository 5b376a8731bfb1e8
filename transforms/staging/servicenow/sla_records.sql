-- ServiceNow SLA clocks (task_sla) -> core.sla_records.
-- The clock's task is looked up among the loaded incidents, changes and requested items for its
-- type, service and priority; durations like "1970-01-01 08:00:00" are seconds since the epoch.
-- The service is named as on the task's own core row (servicenow_reference_names).
-- A clock whose task was deleted goes with it, as on an instance whose reference rule cascades
-- the deletion to the clock: where the rule keeps the clock, it stays with a dangling task and no
-- update, timing a record that is gone. A task restored (loaded again) brings its clocks back.
WITH reference_names AS MATERIALIZED (
    SELECT * FROM servicenow_reference_names()
),

sla_fields AS (
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
        epoch(servicenow_time_as_written(record ->> '$.pause_duration.value')) AS pause_duration_seconds,
        servicenow_time(record ->> '$.sys_updated_on.value') AS updated_at
    FROM raw.servicenow_task_sla
),

task_references AS (
    SELECT record_key AS task_sys_id, 'incident' AS task_type,
           record ->> '$.business_service.value' AS business_service_id,
           record ->> '$.cmdb_ci.value' AS cmdb_ci_id,
           NULL AS cat_item_id,
           try_cast(record ->> '$.priority.value' AS INTEGER) AS priority
    FROM raw.servicenow_incident
    UNION ALL
    SELECT record_key, 'change', record ->> '$.business_service.value',
           record ->> '$.cmdb_ci.value', NULL, NULL
    FROM raw.servicenow_change_request
    UNION ALL
    SELECT record_key, 'request', record ->> '$.business_service.value',
           record ->> '$.cmdb_ci.value', record ->> '$.cat_item.value', NULL
    FROM raw.servicenow_sc_req_item
),

deleted_tasks AS (
    SELECT DISTINCT record ->> '$.documentkey.value' AS task_sys_id
    FROM raw.servicenow_sys_audit_delete
    WHERE record ->> '$.tablename.value' IN ('incident', 'change_request', 'sc_req_item')
),

tasks AS (
    SELECT
        task.task_sys_id,
        task.task_type,
        coalesce(business_services.name, configuration_items.name, catalog_items.name)
            AS service,
        task.priority
    FROM task_references AS task
    LEFT JOIN reference_names AS business_services
        ON business_services.kind = 'service'
            AND business_services.sys_id = task.business_service_id
    LEFT JOIN reference_names AS configuration_items
        ON configuration_items.kind = 'service' AND configuration_items.sys_id = task.cmdb_ci_id
    LEFT JOIN reference_names AS catalog_items
        ON catalog_items.kind = 'catalog item' AND catalog_items.sys_id = task.cat_item_id
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
LEFT JOIN deleted_tasks AS deleted ON deleted.task_sys_id = sla.task_sys_id
WHERE tasks.task_sys_id IS NOT NULL OR deleted.task_sys_id IS NULL
