-- One name per referenced record, for every staging query alike. A record's display value of a
-- reference is the referenced record's name when the record was read, and renaming a group or
-- service updates none of the records pointing at it: incidents read before the rename keep the
-- old name, those read after get the new one. So each referenced sys_id takes the newest name
-- any raw table shows for it (latest record_version, i.e. sys_updated_on; then the later
-- landing; then the greater name). Names are kept apart by kind: groups, services (business
-- services and configuration items share the cmdb_ci table, so one sys_id can be either) and
-- catalog items. Where two groups share a name, letter case aside as the KPIs read names (two
-- companies' "Service Desk" and "service desk"), each gets the first four characters of its
-- sys_id appended, "Service Desk (3f2a)", or its whole sys_id when those four are shared too. Services and catalog items keep their names even when two share
-- one: a business service and its application CI are both "Email", the service every other
-- source (PagerDuty, cost tags, spreadsheets) names "Email" too.
-- Names are read by their words alone (display_name: "Network " is "Network"). An empty
-- reference, or a sys_id whose every display value is empty (a deleted record), has no row.
CREATE OR REPLACE TEMP MACRO servicenow_reference_names() AS TABLE
    WITH task_records AS (
        SELECT record_version, loaded_at, record FROM raw.servicenow_incident
        UNION ALL
        SELECT record_version, loaded_at, record FROM raw.servicenow_change_request
        UNION ALL
        SELECT record_version, loaded_at, record FROM raw.servicenow_sc_req_item
        UNION ALL
        SELECT record_version, loaded_at, record FROM raw.servicenow_cmdb_ci_outage
    ),

    -- One parse of each record for all its references (a table without a field gives NULL).
    reference_fields AS (
        SELECT
            record_version,
            loaded_at,
            json_extract_string(record, [
                '$.assignment_group.value', '$.assignment_group.display_value',
                '$.business_service.value', '$.business_service.display_value',
                '$.cmdb_ci.value', '$.cmdb_ci.display_value',
                '$.cat_item.value', '$.cat_item.display_value'
            ]) AS field
        FROM task_records
    ),

    mentions AS (
        SELECT
            record_version,
            loaded_at,
            unnest([
                {'kind': 'group', 'sys_id': field[1], 'name': field[2]},
                {'kind': 'service', 'sys_id': field[3], 'name': field[4]},
                {'kind': 'service', 'sys_id': field[5], 'name': field[6]},
                {'kind': 'catalog item', 'sys_id': field[7], 'name': field[8]}
            ], recursive := true)
        FROM reference_fields
    ),

    -- Each referenced value once, with its newest name (NULL: no record shows one).
    references_named AS (
        SELECT
            kind,
            sys_id,
            arg_max(name, (record_version, loaded_at, name)) FILTER (WHERE name IS NOT NULL)
                AS name
        FROM (SELECT * REPLACE (display_name(name) AS name) FROM mentions)
        WHERE sys_id <> ''
        GROUP BY kind, sys_id
    ),

    newest_names AS (
        SELECT * FROM references_named WHERE name IS NOT NULL
    ),

    shared_names AS (
        SELECT
            kind,
            sys_id,
            name,
            count(*) OVER (PARTITION BY kind, lower(name)) AS holders,
            count(*) OVER (PARTITION BY kind, lower(name), left(sys_id, 4)) AS holders_of_prefix
        FROM newest_names
    ),

    names_by_sys_id AS (
        SELECT
            kind,
            sys_id,
            CASE
                WHEN holders = 1 OR kind <> 'group' THEN name
                WHEN holders_of_prefix = 1 THEN name || ' (' || left(sys_id, 4) || ')'
                ELSE name || ' (' || sys_id || ')'
            END AS name,
            holders
        FROM shared_names
    ),

    -- An import or a script can store a name where a reference wants a sys_id; the Table API
    -- shows no display value for it. Such a value (not 32 hex digits) names the record of that
    -- name, letter case and spaces aside, when one record of its kind holds it, else itself.
    name_valued_references AS (
        SELECT kind, sys_id, display_name(sys_id) AS name
        FROM references_named
        WHERE name IS NULL
            AND display_name(sys_id) IS NOT NULL
            AND NOT regexp_full_match(sys_id, '[0-9a-fA-F]{32}')
    )

    SELECT kind, sys_id, name FROM names_by_sys_id
    UNION ALL
    SELECT refs.kind, refs.sys_id, coalesce(named.name, refs.name)
    FROM name_valued_references AS refs
    LEFT JOIN names_by_sys_id AS named
        ON named.kind = refs.kind AND named.holders = 1 AND lower(named.name) = lower(refs.name);

-- A count field (reopen_count, reassignment_count) as a whole number of times; NULL (unknown)
-- for anything else, as '1.5' or '-1', which a cast would read as 2 or -1.
-- incidents.quality.sql lists such values.
CREATE OR REPLACE TEMP MACRO servicenow_count(text) AS
    try_cast(CASE WHEN regexp_full_match(text, '[0-9]+') THEN text END AS INTEGER);
