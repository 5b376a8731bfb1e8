-- ServiceNow change requests -> core.changes.
-- Outcome comes from close_code only once the change is in review or closed; a canceled change
-- keeps state 'canceled' and no outcome, so change failure rate can leave it out of both sides.
-- Groups and services are named as for every ServiceNow record (servicenow_reference_names).
WITH reference_names AS MATERIALIZED (
    SELECT * FROM servicenow_reference_names()
),

change_fields AS (
    SELECT
        record_key,
        coalesce(nullif(record ->> '$.number.value', ''), record_key) AS number,
        record ->> '$.state.value' AS state_code,
        nullif(lower(record ->> '$.type.value'), '') AS type,
        record ->> '$.risk.value' AS risk_code,
        record ->> '$.close_code.value' AS close_code,
        servicenow_time(record ->> '$.opened_at.value') AS opened_at,
        servicenow_time(record ->> '$.start_date.value') AS planned_start,
        servicenow_time(record ->> '$.end_date.value') AS planned_end,
        servicenow_time(record ->> '$.work_start.value') AS actual_start,
        servicenow_time(record ->> '$.work_end.value') AS actual_end,
        servicenow_time(record ->> '$.closed_at.value') AS closed_at,
        servicenow_time(record ->> '$.sys_updated_on.value') AS updated_at,
        record ->> '$.business_service.value' AS business_service_id,
        record ->> '$.cmdb_ci.value' AS cmdb_ci_id,
        record ->> '$.assignment_group.value' AS assignment_group_id,
        try_cast(nullif(record ->> '$.production_system.value', '') AS BOOLEAN) AS is_production
    FROM raw.servicenow_change_request
),

change_states(state_code, state, finished) AS (
    VALUES ('-5', 'new', false), ('-4', 'assess', false), ('-3', 'authorize', false),
           ('-2', 'scheduled', false), ('-1', 'implement', false), ('0', 'review', true),
           ('3', 'closed', true), ('4', 'canceled', false)
),

change_outcomes(close_code, outcome) AS (
    VALUES ('successful', 'successful'), ('successful_issues', 'successful_issues'),
           ('unsuccessful', 'unsuccessful')
),

risk_levels(risk_code, risk) AS (
    VALUES ('1', 'very_high'), ('2', 'high'), ('3', 'moderate'), ('4', 'low')
)

SELECT
    'servicenow:' || change.record_key AS change_id,
    'servicenow' AS source,
    change.number,
    change.type,
    risk_levels.risk,
    change_states.state,
    CASE WHEN change_states.finished THEN change_outcomes.outcome END AS outcome,
    change.opened_at,
    change.planned_start,
    change.planned_end,
    change.actual_start,
    change.actual_end,
    change.closed_at,
    coalesce(business_services.name, configuration_items.name) AS service,
    assignment_groups.name AS assignment_group,
    -- ServiceNow has no backed-out flag; a backed-out change closes as unsuccessful.
    CAST(NULL AS BOOLEAN) AS backed_out,
    change.is_production,
    change.updated_at
FROM change_fields AS change
LEFT JOIN change_states USING (state_code)
LEFT JOIN change_outcomes USING (close_code)
LEFT JOIN risk_levels USING (risk_code)
LEFT JOIN reference_names AS business_services
    ON business_services.kind = 'service' AND business_services.sys_id = change.business_service_id
LEFT JOIN reference_names AS configuration_items
    ON configuration_items.kind = 'service' AND configuration_items.sys_id = change.cmdb_ci_id
LEFT JOIN reference_names AS assignment_groups
    ON assignment_groups.kind = 'group' AND assignment_groups.sys_id = change.assignment_group_id
