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

-- Issues of one kind whose resolution date is before their creation; staging leaves the times
-- named in `left_empty` empty for them.
CREATE OR REPLACE TEMP MACRO jira_resolved_before_created(of_kind, left_empty) AS TABLE
    SELECT
        coalesce(nullif(record ->> '$.key', ''), record_key) AS number,
        'resolutiondate' AS field,
        'resolved before created (' || left_empty || ' left empty)' AS problem,
        record ->> '$.fields.resolutiondate' AS value
    FROM jira_issues_now(of_kind)
    WHERE jira_time(record ->> '$.fields.resolutiondate')
        < jira_time(record ->> '$.fields.created');
