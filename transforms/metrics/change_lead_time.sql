-- DORA's lead time for changes: hours from a change's opening to its implementation (actual end),
-- for the deployments change failure rate and deployment frequency count (completed_changes is
-- defined in _facts_input.sql), in the period of the actual end. A change closed without an actual
-- end was deployed at an unknown time, so it is noted rather than timed by its closing.
WITH changes_judged AS (
    SELECT
        *,
        (epoch(actual_end) - epoch(opened_at)) / 3600.0 AS hours,
        CASE
            WHEN is_cancelled THEN 'excluded: cancelled'
            WHEN actual_end IS NULL THEN 'excluded: no actual end'
            WHEN opened_at IS NULL THEN 'excluded: no opened_at'
            WHEN actual_end < opened_at THEN 'excluded: implemented before opened'
        END AS exclusion
    FROM completed_changes
)
SELECT
    'change' AS record_table,
    change_id AS record_id,
    completed_at,
    service,
    assignment_group,
    source,
    hours AS num,
    1.0 AS den,
    hours AS x,
    exclusion IS NULL AS in_numerator,
    exclusion IS NULL AS in_denominator,
    coalesce(exclusion, type_note) AS note
FROM changes_judged
