-- Freshservice changes -> core.changes.
-- Codes per the API: status 1 Open, 2 Planning, 3 Awaiting Approval, 4 Pending Release,
-- 5 Pending Review, 6 Closed; change_type 1 Minor, 2 Standard, 3 Major, 4 Emergency; risk
-- 1 Low .. 4 Very High. The API records no outcome and no closing time: outcome stays empty,
-- and a closed change's last update stands for its closing. The group is named as tickets name
-- it (/api/v2/groups), so a team's changes and tickets share one assignment_group.
WITH change_fields AS (
    SELECT
        record_key,
        record ->> '$.status' AS status_code,
        record ->> '$.change_type' AS type_code,
        record ->> '$.risk' AS risk_code,
        instant(record ->> '$.created_at') AS opened_at,
        instant(record ->> '$.planned_start_date') AS planned_start,
        instant(record ->> '$.planned_end_date') AS planned_end,
        instant(record ->> '$.updated_at') AS updated_at,
        nullif(record ->> '$.group_id', '') AS group_id
    FROM raw.freshservice_changes
),

change_states(status_code, state) AS (
    VALUES ('1', 'new'), ('2', 'assess'), ('3', 'authorize'), ('4', 'scheduled'),
           ('5', 'review'), ('6', 'closed')
),

change_types(type_code, type) AS (
    VALUES ('1', 'minor'), ('2', 'standard'), ('3', 'major'), ('4', 'emergency')
),

risk_levels(risk_code, risk) AS (
    VALUES ('1', 'low'), ('2', 'moderate'), ('3', 'high'), ('4', 'very_high')
)

SELECT
    'freshservice:' || change.record_key AS change_id,
    'freshservice' AS source,
    change.record_key AS number,
    change_types.type,
    risk_levels.risk,
    change_states.state,
    CAST(NULL AS VARCHAR) AS outcome,
    change.opened_at,
    change.planned_start,
    change.planned_end,
    CAST(NULL AS TIMESTAMPTZ) AS actual_start,
    CAST(NULL AS TIMESTAMPTZ) AS actual_end,
    CASE WHEN change_states.state = 'closed' THEN change.updated_at END AS closed_at,
    CAST(NULL AS VARCHAR) AS service,
    coalesce(group_names.group_name, change.group_id) AS assignment_group,
    CAST(NULL AS BOOLEAN) AS backed_out,
    CAST(NULL AS BOOLEAN) AS is_production,
    change.updated_at
FROM change_fields AS change
LEFT JOIN change_states USING (status_code)
LEFT JOIN change_types USING (type_code)
LEFT JOIN risk_levels USING (risk_code)
LEFT JOIN freshservice_group_names() AS group_names USING (group_id)
