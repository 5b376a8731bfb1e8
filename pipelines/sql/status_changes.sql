-- The scorecard's headline changes: metrics whose status in the latest complete period of their
-- grain differs from their status in the period before. Running periods are never scored, so they
-- never count as a change.
WITH complete_periods AS (
    SELECT DISTINCT metric_id, grain, period_start
    FROM kpi.metric_values
    WHERE dimension = 'all' AND period_complete
),

scored_periods AS (
    SELECT
        status.metric_id,
        status.grain,
        status.period_start,
        status.status,
        lag(status.status) OVER (
            PARTITION BY status.metric_id, status.grain ORDER BY status.period_start
        ) AS previous_status
    FROM scorecard.metric_status AS status
    JOIN complete_periods USING (metric_id, grain, period_start)
),

latest_complete_period AS (
    SELECT grain, max(period_start) AS period_start
    FROM scored_periods
    GROUP BY grain
)

SELECT metric_id, grain, period_start, previous_status, status
FROM scored_periods
JOIN latest_complete_period USING (grain, period_start)
WHERE previous_status IS NOT NULL AND status IS DISTINCT FROM previous_status
ORDER BY grain, metric_id
