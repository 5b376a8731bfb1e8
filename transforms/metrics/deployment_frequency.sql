-- Completed production changes (deployments), counted in the period of their actual end.
WITH deployments AS (
    SELECT *, coalesce(actual_end, closed_at) AS completed_at
    FROM core.changes
    WHERE is_production IS DISTINCT FROM false
        AND (len(getvariable('change_types')) = 0
            OR list_contains(getvariable('change_types'), lower(type)))
)
SELECT
    'change' AS record_table,
    change_id AS record_id,
    completed_at,
    service,
    assignment_group,
    source,
    1.0 AS num,
    NOT list_contains(getvariable('cancelled_states'), lower(state)) AS in_numerator,
    NOT list_contains(getvariable('cancelled_states'), lower(state)) AS counts_in_n,
    CASE
        WHEN list_contains(getvariable('cancelled_states'), lower(state)) THEN 'excluded: cancelled'
    END AS note
FROM deployments
WHERE completed_at IS NOT NULL
