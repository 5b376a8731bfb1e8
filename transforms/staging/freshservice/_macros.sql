-- Macros the Freshservice staging queries share (the shared ones are in ../macros.sql).

-- Each Freshservice agent group id with its name as /api/v2/groups names it now (a ticket names
-- its group by id alone); incidents and requests alike.
CREATE OR REPLACE TEMP MACRO freshservice_group_names() AS TABLE
    SELECT record_key AS group_id, display_name(record ->> '$.name') AS group_name
    FROM raw.freshservice_groups;
