-- Reds and escalations of the current period, with the open action that answers each: its
-- owner (the metric's owner when no action exists yet), due date and commentary.
WITH needing_attention AS (
    SELECT status.*
    FROM report_status AS status
    JOIN report_periods USING (scorecard_id, grain, period_start)
    WHERE status.status = 'red' OR status.escalate
),

open_actions AS (
    SELECT *
    FROM report_actions
    WHERE coalesce(status, 'open') NOT IN ('resolved', 'closed')
    QUALIFY row_number() OVER (
        PARTITION BY scorecard_id, metric_id ORDER BY due_date NULLS LAST, action_id
    ) = 1
)

SELECT
    metric.scorecard_id, metric.metric_id, metric.status, metric.escalate, metric.actual,
    metric.target, metric.score,
    coalesce(action.owner, metric.owner) AS owner,
    action.due_date,
    coalesce(metric.commentary, action.commentary) AS commentary
FROM needing_attention AS metric
LEFT JOIN open_actions AS action USING (scorecard_id, metric_id)
ORDER BY metric.scorecard_id, metric.status = 'red' DESC, metric.score NULLS FIRST, metric.metric_id;
