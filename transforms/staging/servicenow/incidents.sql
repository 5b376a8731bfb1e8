-- ServiceNow incidents -> core.incidents.
-- Raw records hold every field as {"display_value", "value"} (sysparm_display_value=all):
-- codes and UTC datetimes come from "value"; groups and services are referenced by sys_id and
-- named once for all records (servicenow_reference_names: the newest name, unique per record).
-- Unreadable values become NULL here and are reported by incidents.quality.sql.
WITH reference_names AS MATERIALIZED (
    SELECT * FROM servicenow_reference_names()
),

incident_fields AS (
    SELECT
        record_key,
        coalesce(nullif(record ->> '$.number.value', ''), record_key) AS number,
        record ->> '$.state.value' AS state_code,
        record ->> '$.priority.value' AS priority_code,
        servicenow_time(record ->> '$.opened_at.value') AS opened_at,
        servicenow_time(record ->> '$.resolved_at.value') AS resolved_at,
        servicenow_time(record ->> '$.closed_at.value') AS closed_at,
        servicenow_time(record ->> '$.sys_updated_on.value') AS updated_at,
        record ->> '$.business_service.value' AS business_service_id,
        record ->> '$.cmdb_ci.value' AS cmdb_ci_id,
        record ->> '$.assignment_group.value' AS assignment_group_id,
        nullif(record ->> '$.category.value', '') AS category,
        lower(trim(record ->> '$.contact_type.value')) AS contact_type,
        servicenow_count(record ->> '$.reopen_count.value') AS reopen_count,
        servicenow_count(record ->> '$.reassignment_count.value') AS reassignment_count,
        try_cast(nullif(record ->> '$.made_sla.value', '') AS BOOLEAN) AS made_sla,
        nullif(record ->> '$.caused_by.value', '') AS caused_by,
        nullif(record ->> '$.rfc.value', '') AS rfc,
        nullif(record ->> '$.close_code.value', '') AS close_code
    FROM raw.servicenow_incident
),

incident_states(state_code, state) AS (
    VALUES ('1', 'new'), ('2', 'in_progress'), ('3', 'on_hold'),
           ('6', 'resolved'), ('7', 'closed'), ('8', 'canceled')
),

contact_channels(contact_type, channel) AS (
    VALUES ('phone', 'phone'), ('ivr', 'phone'), ('email', 'email'),
           ('self-service', 'portal'), ('self service', 'portal'), ('portal', 'portal'),
           ('web', 'portal'), ('chat', 'chat'), ('virtual_agent', 'chat'),
           ('walk-in', 'walk_in'), ('direct_opening', 'walk_in'), ('direct opening', 'walk_in'),
           ('monitoring', 'monitoring'), ('alert', 'monitoring'), ('event', 'monitoring')
)

SELECT
    'servicenow:' || incident.record_key AS incident_id,
    'servicenow' AS source,
    incident.number,
    incident.opened_at,
    -- A resolution before the opening is impossible; it is reported, not measured.
    CASE WHEN incident.resolved_at >= incident.opened_at OR incident.opened_at IS NULL
        THEN incident.resolved_at END AS resolved_at,
    incident.closed_at,
    CASE WHEN incident.priority_code IN ('1', '2', '3', '4', '5')
        THEN incident.priority_code::INTEGER END AS priority,
    incident_states.state,
    coalesce(business_services.name, configuration_items.name) AS service,
    assignment_groups.name AS assignment_group,
    incident.category,
    CASE WHEN incident.contact_type <> ''
        THEN coalesce(contact_channels.channel, 'other') END AS channel,
    incident.reopen_count,
    incident.reassignment_count,
    incident.made_sla,
    'servicenow:' || incident.caused_by AS caused_by_change_id,
    'servicenow:' || incident.rfc AS related_change_id,
    incident.close_code,
    coalesce(lower(incident.category) LIKE '%security%', false) AS is_security,
    incident.updated_at
FROM incident_fields AS incident
LEFT JOIN incident_states USING (state_code)
LEFT JOIN contact_channels USING (contact_type)
LEFT JOIN reference_names AS business_services
    ON business_services.kind = 'service'
        AND business_services.sys_id = incident.business_service_id
LEFT JOIN reference_names AS configuration_items
    ON configuration_items.kind = 'service' AND configuration_items.sys_id = incident.cmdb_ci_id
LEFT JOIN reference_names AS assignment_groups
    ON assignment_groups.kind = 'group' AND assignment_groups.sys_id = incident.assignment_group_id
