-- The running period: each scorecard metric's value so far, with the goals of the scorecard's
-- latest scored period of its grain (the metrics bi.scorecard_current shows, so a metric retired
-- from a scorecard drops out of both). It is partial (the period has not ended), so it carries no
-- score, status, signal or trend; readers see where a metric is heading, never a verdict. The
-- goal columns are named here, so a per-period column added to scorecard.metric_status never
-- passes a scored period's verdict off as the running one's.
CREATE OR REPLACE VIEW bi.scorecard_to_date AS
WITH latest_goals AS (
    SELECT
        scorecard_id, metric_id, grain, perspective, objective, owner, threshold, target, stretch,
        band_low, band_high, weight, goals_from, target_date, direction
    FROM scorecard.metric_status
    QUALIFY period_start = max(period_start) OVER (PARTITION BY scorecard_id, grain)
),

running_values AS (
    SELECT metric_id, grain, period_start, value, numerator, denominator, n, unit, reason
    FROM kpi.metric_values
    WHERE dimension = 'all' AND NOT coalesce(period_complete, false)
    -- The running period only: a period that ended but awaits a source read is not running.
    QUALIFY period_start = max(period_start) OVER (PARTITION BY metric_id, grain)
)

SELECT
    latest_goals.scorecard_id,
    running_values.metric_id,
    definition.name AS metric_name,
    running_values.grain,
    running_values.period_start,
    bi.period_last_day(running_values.grain, running_values.period_start) AS period_last_day,
    true AS partial,
    running_values.value AS actual_to_date,
    running_values.numerator,
    running_values.denominator,
    running_values.n,
    running_values.unit,
    running_values.reason,
    latest_goals.* EXCLUDE (scorecard_id, metric_id, grain)
FROM running_values
JOIN latest_goals USING (metric_id, grain)
LEFT JOIN kpi.metric_definitions AS definition ON definition.metric_id = running_values.metric_id
ORDER BY latest_goals.scorecard_id, running_values.grain, running_values.metric_id;

COMMENT ON VIEW bi.scorecard_to_date IS
    'One row per scorecard and metric in its running period: value so far (partial, never scored) and goals.';
