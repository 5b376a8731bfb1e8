-- Reds and escalations of the current period, and metrics with an open scorecard-wide action
-- (dimension 'all'), with the action that answers each: the open one due first, its owner (the
-- metric's owner when none is open), due date and trigger. Commentary is the owner's (metric_status.commentary), followed by the decision: the
-- period's own, else the note of the action a decision closed when no action is left open.
-- A metric whose current period is pending a source read is judged by its latest judged period
-- (judged_start), so a red and its open action stay on the page until the read completes it.
WITH current_rows AS (
    SELECT status.*
    FROM report_status AS status
    JOIN report_grain_periods USING (scorecard_id, grain, period_start)
),

latest_judged AS (
    SELECT * FROM current_rows WHERE NOT pending
    UNION ALL
    SELECT * FROM (
        SELECT earlier.*
        FROM current_rows AS current
        JOIN report_status AS earlier
            ON earlier.scorecard_id = current.scorecard_id
            AND earlier.metric_id = current.metric_id
            AND earlier.grain = current.grain
            AND earlier.period_start < current.period_start
            AND NOT earlier.pending
        WHERE current.pending
        QUALIFY row_number() OVER (
            PARTITION BY earlier.scorecard_id, earlier.metric_id ORDER BY earlier.period_start DESC
        ) = 1
    )
),

-- A red's action stays open through a period without a value (grey, or stale not yet past two
-- cadences), where no trigger can be judged: the metric stays listed, with its action.
needing_attention AS (
    SELECT *
    FROM latest_judged AS metric
    WHERE status = 'red' OR escalate OR EXISTS (
        SELECT 1
        FROM scorecard.actions AS action
        WHERE action.scorecard_id = metric.scorecard_id AND action.metric_id = metric.metric_id
            AND action.grain = metric.grain AND action.dimension = 'all'
            AND action.status = 'open'
    )
),

metric_actions AS (
    SELECT *
    FROM scorecard.actions
    WHERE dimension = 'all' AND status IN ('open', 'closed')
    QUALIFY row_number() OVER (
        PARTITION BY scorecard_id, metric_id
        ORDER BY status = 'open' DESC,
                 CASE WHEN status = 'open' THEN due_date END NULLS LAST,
                 closed_at DESC NULLS LAST,
                 action_id
    ) = 1
)

SELECT
    metric.scorecard_id, metric.metric_id, metric.grain, metric.period_start AS judged_start,
    periods.period_start AS current_start, metric.status,
    metric.escalate, metric.actual,
    metric.target, metric.score,
    CASE WHEN action.status = 'open' THEN action.owner END AS action_owner,
    coalesce(CASE WHEN action.status = 'open' THEN action.owner END, metric.owner) AS owner,
    CASE WHEN action.status = 'open' THEN action.due_date END AS due_date,
    CASE WHEN action.status = 'open' THEN action.trigger END AS open_trigger,
    nullif(concat_ws(' · ', metric.commentary, 'Decision: ' || coalesce(
        metric.decision, CASE WHEN action.status = 'closed' THEN action.note END
    )), '') AS commentary
FROM needing_attention AS metric
JOIN report_grain_periods AS periods
    ON periods.scorecard_id = metric.scorecard_id AND periods.grain = metric.grain
LEFT JOIN metric_actions AS action
    ON action.scorecard_id = metric.scorecard_id AND action.metric_id = metric.metric_id
ORDER BY metric.scorecard_id, metric.status = 'red' DESC, metric.score NULLS FIRST, metric.metric_id;
