-- The running period: each scorecard metric's value so far, with the goals of its latest scored
-- period. It is partial (the period has not ended), so it carries no score or status; readers see
-- where a metric is heading, never a verdict. Goal columns pass through from
-- scorecard.metric_status (scorecard_id included).
CREATE OR REPLACE VIEW bi.scorecard_to_date AS
WITH latest_goals AS (
    SELECT * EXCLUDE (
        period_start, actual, baseline, score, status, trend, signal, escalate, reason
    )
    FROM scorecard.metric_status
    -- rank, not row_number: several scorecards share a period and each keeps its own goals.
    QUALIFY rank() OVER (PARTITION BY metric_id, grain ORDER BY period_start DESC) = 1
),

running_values AS (
    SELECT metric_id, grain, period_start, value, numerator, denominator, n, unit, reason
    FROM kpi.metric_values
    WHERE dimension = 'all' AND NOT coalesce(period_complete, false)
)

SELECT
    running_values.metric_id,
    definition.name AS metric_name,
    running_values.grain,
    running_values.period_start,
    CAST(
        running_values.period_start + CASE running_values.grain
            WHEN 'week' THEN INTERVAL 7 DAY
            WHEN 'month' THEN INTERVAL 1 MONTH
            ELSE INTERVAL 3 MONTH
        END - INTERVAL 1 DAY AS DATE
    ) AS period_last_day,
    true AS partial,
    running_values.value AS actual_to_date,
    running_values.numerator,
    running_values.denominator,
    running_values.n,
    running_values.unit,
    running_values.reason,
    latest_goals.* EXCLUDE (metric_id, grain)
FROM running_values
JOIN latest_goals USING (metric_id, grain)
LEFT JOIN kpi.metric_definitions AS definition ON definition.metric_id = running_values.metric_id;

COMMENT ON VIEW bi.scorecard_to_date IS
    'One row per scorecard metric in its running period: value so far (partial, never scored) and goals.';
