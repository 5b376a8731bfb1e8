-- Deployments, counted in the period of their actual end, else their closing: the change
-- population change failure rate also counts (completed_changes is defined in _facts_input.sql).
SELECT
    'change' AS record_table,
    change_id AS record_id,
    completed_at,
    service,
    assignment_group,
    source,
    1.0 AS num,
    NOT is_cancelled AS in_numerator,
    NOT is_cancelled AS counts_in_n,
    CASE WHEN is_cancelled THEN 'excluded: cancelled' ELSE type_note END AS note
FROM completed_changes
