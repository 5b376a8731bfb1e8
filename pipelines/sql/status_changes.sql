-- The scorecard's headline changes: metrics whose status in the latest complete period of their
-- scorecard and grain differs from their status in the period before. metric_status holds ended
-- periods only (a metric that went stale included), so the running period never counts; a period
-- pending a source read is not judged yet, so it is left out (not a change to grey and back).
WITH scored_periods AS (
    SELECT
        scorecard_id,
        metric_id,
        grain,
        period_start,
        status,
        lag(status) OVER (
            PARTITION BY scorecard_id, metric_id, grain ORDER BY period_start
        ) AS previous_status
    FROM scorecard.metric_status
    WHERE NOT coalesce(pending, false)
),

latest_complete_period AS (
    SELECT scorecard_id, grain, max(period_start) AS period_start
    FROM scored_periods
    GROUP BY scorecard_id, grain
)

SELECT scorecard_id, metric_id, grain, period_start, previous_status, status
FROM scored_periods
JOIN latest_complete_period USING (scorecard_id, grain, period_start)
WHERE previous_status IS NOT NULL AND status IS DISTINCT FROM previous_status
ORDER BY scorecard_id, grain, metric_id
