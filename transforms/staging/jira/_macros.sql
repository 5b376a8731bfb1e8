-- The issues of one kind (incident, request, change) as they are now. Each kind lands in a raw
-- table of its own, and an issue whose type moves to another kind (a service request made an
-- incident) stays in its old kind's table, since nothing there deletes it: only the table with
-- its newest version (the later kind's name on a tie) counts.
CREATE OR REPLACE TEMP MACRO jira_issues_now(of_kind) AS TABLE
    WITH versions AS (
        SELECT 'incident' AS kind, record_key, record_version, record FROM raw.jira_incidents
        UNION ALL
        SELECT 'request', record_key, record_version, record FROM raw.jira_requests
        UNION ALL
        SELECT 'change', record_key, record_version, record FROM raw.jira_changes
    )
    SELECT own.record_key, own.record
    FROM versions AS own
    WHERE own.kind = of_kind
        AND NOT EXISTS (
            SELECT 1
            FROM versions AS other
            WHERE other.record_key = own.record_key
                AND other.kind <> own.kind
                AND (other.record_version, other.kind) > (own.record_version, own.kind)
        );

-- When an issue ended: its resolution date. A workflow can reach a done status without setting
-- a resolution (common in Jira Service Management), leaving resolutiondate null; such a done
-- issue ended when it entered the done category. A resolution date that is set but unreadable
-- is reported as such, not replaced.
CREATE OR REPLACE TEMP MACRO jira_ended_at(issue) AS
    CASE
        WHEN issue ->> '$.fields.resolutiondate' IS NOT NULL
            THEN jira_time(issue ->> '$.fields.resolutiondate')
        WHEN lower(issue ->> '$.fields.status.statusCategory.key') = 'done'
            THEN jira_time(issue ->> '$.fields.statuscategorychangedate')
    END;

-- The field jira_ended_at read an issue's end from.
CREATE OR REPLACE TEMP MACRO jira_end_field(issue) AS
    CASE WHEN issue ->> '$.fields.resolutiondate' IS NULL
        THEN 'statuscategorychangedate' ELSE 'resolutiondate' END;

-- Issues of one kind that ended before their creation; staging leaves the times named in
-- `left_empty` empty for them.
CREATE OR REPLACE TEMP MACRO jira_resolved_before_created(of_kind, left_empty) AS TABLE
    SELECT
        coalesce(nullif(record ->> '$.key', ''), record_key) AS number,
        jira_end_field(record) AS field,
        'resolved before created (' || left_empty || ' left empty)' AS problem,
        record ->> ('$.fields.' || jira_end_field(record)) AS value
    FROM jira_issues_now(of_kind)
    WHERE jira_ended_at(record) < jira_time(record ->> '$.fields.created');

-- Done issues of one kind with no end time: no resolution date, and no readable time they
-- entered the done category. Staging gives them none, so no KPI counts them.
CREATE OR REPLACE TEMP MACRO jira_done_without_end(of_kind) AS TABLE
    SELECT
        coalesce(nullif(record ->> '$.key', ''), record_key) AS number,
        CASE WHEN record ->> '$.fields.statuscategorychangedate' IS NULL
            THEN 'resolutiondate' ELSE 'statuscategorychangedate' END AS field,
        CASE WHEN record ->> '$.fields.statuscategorychangedate' IS NULL
            THEN 'done without resolutiondate or statuscategorychangedate'
            ELSE 'done without resolutiondate, and statuscategorychangedate unparseable'
        END || ' (no end time: not counted)' AS problem,
        record ->> '$.fields.statuscategorychangedate' AS value
    FROM jira_issues_now(of_kind)
    WHERE lower(record ->> '$.fields.status.statusCategory.key') = 'done'
        AND record ->> '$.fields.resolutiondate' IS NULL
        AND jira_time(record ->> '$.fields.statuscategorychangedate') IS NULL;

-- One name per component id, for every Jira staging query alike. An issue shows its components'
-- names as they were when the issue was read, and renaming a component updates no issue: the
-- issues read before a rename keep the old name until they are read again. So each component id
-- takes the name of the latest read that shows it (then the newer version, then the greater name).
CREATE OR REPLACE TEMP MACRO jira_component_names() AS TABLE
    WITH reads AS (
        SELECT loaded_at, record_version, record FROM raw.jira_incidents
        UNION ALL
        SELECT loaded_at, record_version, record FROM raw.jira_requests
        UNION ALL
        SELECT loaded_at, record_version, record FROM raw.jira_changes
    ),

    mentions AS (
        SELECT
            loaded_at,
            record_version,
            unnest(json_elements(record -> '$.fields.components')) AS component
        FROM reads
    ),

    named AS (
        SELECT
            loaded_at,
            record_version,
            component ->> 'id' AS component_id,
            display_name(component ->> 'name') AS name
        FROM mentions
    )

    SELECT component_id, arg_max(name, (loaded_at, record_version, name)) AS name
    FROM named
    WHERE component_id IS NOT NULL AND name IS NOT NULL
    GROUP BY component_id;

-- The service an issue names: its first component, by that component's newest name (by the name
-- the issue shows when the component has no id).
CREATE OR REPLACE TEMP MACRO jira_service(issue) AS
    coalesce(
        (
            SELECT names.name
            FROM jira_component_names() AS names
            WHERE names.component_id = issue ->> '$.fields.components[0].id'
        ),
        display_name(issue ->> '$.fields.components[0].name')
    );
