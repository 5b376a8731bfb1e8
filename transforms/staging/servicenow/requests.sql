-- ServiceNow requested items (sc_req_item) -> core.requests.
-- A request counts as fulfilled when it closed complete; closed incomplete or skipped is canceled.
-- Groups, services and catalog items are named as for every ServiceNow record
-- (servicenow_reference_names); a request with no service is counted under its catalog item.
WITH reference_names AS MATERIALIZED (
    SELECT * FROM servicenow_reference_names()
),

request_fields AS (
    SELECT
        record_key,
        coalesce(nullif(record ->> '$.number.value', ''), record_key) AS number,
        record ->> '$.state.value' AS state_code,
        servicenow_time(record ->> '$.opened_at.value') AS opened_at,
        servicenow_time(record ->> '$.closed_at.value') AS closed_at,
        servicenow_time(record ->> '$.sys_updated_on.value') AS updated_at,
        record ->> '$.business_service.value' AS business_service_id,
        record ->> '$.cmdb_ci.value' AS cmdb_ci_id,
        record ->> '$.cat_item.value' AS cat_item_id,
        record ->> '$.assignment_group.value' AS assignment_group_id,
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
    coalesce(business_services.name, configuration_items.name, catalog_items.name) AS service,
    assignment_groups.name AS assignment_group,
    CASE WHEN request.contact_type <> ''
        THEN coalesce(contact_channels.channel, 'other') END AS channel,
    request.updated_at
FROM request_fields AS request
LEFT JOIN request_states USING (state_code)
LEFT JOIN contact_channels USING (contact_type)
LEFT JOIN reference_names AS business_services
    ON business_services.kind = 'service' AND business_services.sys_id = request.business_service_id
LEFT JOIN reference_names AS configuration_items
    ON configuration_items.kind = 'service' AND configuration_items.sys_id = request.cmdb_ci_id
LEFT JOIN reference_names AS catalog_items
    ON catalog_items.kind = 'catalog item' AND catalog_items.sys_id = request.cat_item_id
LEFT JOIN reference_names AS assignment_groups
    ON assignment_groups.kind = 'group' AND assignment_groups.sys_id = request.assignment_group_id
