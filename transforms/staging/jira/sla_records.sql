-- Jira Service Management SLA cycles -> core.sla_records, one row per cycle.
-- The raw record holds all SLAs of one issue, from /rest/servicedeskapi/request/{key}/sla.
-- Each completed cycle is a stopped clock (met or breached); the ongoing cycle, if any, is a
-- running or paused one. Times are read from epochMillis, which carries no zone to misread.
WITH issue_slas AS (
    SELECT
        record_key AS issue_id,
        record ->> '$.key' AS task_number,
        jira_time(record ->> '$.updated') AS updated_at,
        unnest(json_elements(record -> '$.values')) AS sla
    FROM raw.jira_sla
),

completed_cycles AS (
    SELECT
        issue_id, task_number, updated_at,
        sla ->> '$.id' AS sla_id,
        sla ->> '$.name' AS sla_name,
        unnest(json_elements(sla -> '$.completedCycles')) AS cycle,
        'completed' AS stage
    FROM issue_slas
),

ongoing_cycles AS (
    SELECT
        issue_id, task_number, updated_at,
        sla ->> '$.id' AS sla_id,
        sla ->> '$.name' AS sla_name,
        sla -> '$.ongoingCycle' AS cycle,
        CASE WHEN try_cast(sla ->> '$.ongoingCycle.paused' AS BOOLEAN) THEN 'paused'
            ELSE 'in_progress' END AS stage
    FROM issue_slas
    -- A cycle is an object: an SLA without one leaves the key out or sends JSON null.
    WHERE json_type(sla -> '$.ongoingCycle') = 'OBJECT'
),

cycles AS (
    SELECT * FROM completed_cycles
    UNION ALL
    SELECT * FROM ongoing_cycles
),

tasks AS (
    SELECT issue_id, task_type, jira_service(record) AS service, priority
    FROM (
        SELECT record_key AS issue_id, 'incident' AS task_type, record,
               priority_level(record ->> '$.fields.priority.name') AS priority
        FROM jira_issues_now('incident')
        UNION ALL
        SELECT record_key, 'request', record, NULL
        FROM jira_issues_now('request')
        UNION ALL
        SELECT record_key, 'change', record, NULL
        FROM jira_issues_now('change')
    )
)

SELECT
    'jira:' || cycles.issue_id || ':' || coalesce(cycles.sla_id, cycles.sla_name) || ':'
        || coalesce(cycles.cycle ->> '$.startTime.epochMillis', '?') AS sla_record_id,
    'jira' AS source,
    'jira:' || cycles.issue_id AS task_id,
    cycles.task_number,
    tasks.task_type,
    cycles.sla_name,
    cycles.stage,
    try_cast(cycles.cycle ->> '$.breached' AS BOOLEAN) AS breached,
    jira_millis(cycles.cycle ->> '$.startTime.epochMillis') AS start_time,
    jira_millis(cycles.cycle ->> '$.stopTime.epochMillis') AS end_time,
    jira_millis(cycles.cycle ->> '$.breachTime.epochMillis') AS breach_time,
    CAST(NULL AS DOUBLE) AS pause_duration_seconds,
    tasks.service,
    tasks.priority,
    cycles.updated_at
FROM cycles
-- An issue deleted at the source (gone from its kind's table) takes its SLA cycles with it.
JOIN tasks USING (issue_id)
