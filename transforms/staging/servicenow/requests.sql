-- ServiceNow requested items (sc_req_item) -> core.requests.
-- A request counts as fulfilled when it closed complete; closed incomplete or skipped is canceled.
WITH request_fields AS (
    SELECT
        record_key,
        coalesce(nullif(record ->> '$.number.value', ''), record_key) AS number,
        record ->> '$.state.value' AS state_code,
        servicenow_time(record ->> '$.opened_at.value') AS opened_at,
        servicenow_time(record ->> '$.closed_at.value') AS closed_at,
        servicenow_time(record ->> '$.sys_updated_on.value') AS updated_at,
        coalesce(
            nullif(record ->> '$.business_service.display_value', ''),
            nullif(record ->> '$.cmdb_ci.display_value', ''),
            nullif(record ->> '$.cat_item.display_value', '')
        ) AS service,
        nullif(record ->> '$.assignment_group.display_value', '') AS assignment_group,
        lower(trim(record ->> '$.contact_type.value')) AS contact_type
    FROM raw.servicenow_sc_req_item
),

request_states(state_code, state, fulfilled) AS (
    VALUES ('-5', 'new', false), ('1', 'new', false), ('2', 'in_progress', false),
           ('3', 'closed', true), ('4', 'canceled', false), ('7', 'canceled', false)
),

contact_channels(contact_type, channel) AS (
    VALUES ('phone', 'phone'), ('ivr', 'phone'), ('email', 'email'),
           ('self-service', 'portal'), ('self service', 'portal'), ('portal', 'portal'),
           ('web', 'portal'), ('chat', 'chat'), ('virtual_agent', 'chat'),
           ('walk-in', 'walk_in'), ('direct_opening', 'walk_in'), ('direct opening', 'walk_in')
)

SELECT
    'servicenow:' || request.record_key AS request_id,
    'servicenow' AS source,
    request.number,
    request.opened_at,
    CASE WHEN request_states.fulfilled AND request.closed_at >= request.opened_at
        THEN request.closed_at END AS fulfilled_at,
    request.closed_at,
    request_states.state,
    request.service,
    request.assignment_group,
    CASE WHEN request.contact_type <> ''
        THEN coalesce(contact_channels.channel, 'other') END AS channel,
    request.updated_at
FROM request_fields AS request
LEFT JOIN request_states USING (state_code)
LEFT JOIN contact_channels USING (contact_type)
