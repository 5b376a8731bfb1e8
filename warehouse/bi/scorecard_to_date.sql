-- The running period: each scorecard metric's value so far, with the goals in force for that
-- period (scorecard.metric_goals: after a goal change, the new ones, which no scored period holds
-- yet; a metric retired before the period has none and drops out). It is partial (the period has
-- not ended), so it carries no score, status, signal or trend; readers see where a metric is
-- heading, never a verdict.
CREATE OR REPLACE VIEW bi.scorecard_to_date AS
WITH running_values AS (
    SELECT metric_id, grain, period_start, value, numerator, denominator, n, unit, reason
    FROM kpi.metric_values
    WHERE dimension = 'all' AND NOT coalesce(period_complete, false)
    -- The running period only: a period that ended but awaits a source read is not running.
    QUALIFY period_start = max(period_start) OVER (PARTITION BY metric_id, grain)
),

goals_in_force AS (
    SELECT
        goals.scorecard_id, goals.metric_id, goals.grain, running_values.period_start,
        goals.perspective, goals.objective, goals.owner, goals.threshold, goals.target,
        goals.stretch, goals.band_low, goals.band_high, goals.weight, goals.goals_from,
        goals.target_date, goals.direction
    FROM scorecard.metric_goals AS goals
    JOIN running_values
        ON running_values.metric_id = goals.metric_id AND running_values.grain = goals.grain
        AND running_values.period_start >= coalesce(goals.goals_from, DATE '0001-01-01')
        AND running_values.period_start < coalesce(goals.goals_to, DATE '9999-12-31')
)

SELECT
    goals_in_force.scorecard_id,
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
    goals_in_force.* EXCLUDE (scorecard_id, metric_id, grain, period_start)
FROM running_values
JOIN goals_in_force USING (metric_id, grain, period_start)
LEFT JOIN kpi.metric_definitions AS definition ON definition.metric_id = running_values.metric_id
ORDER BY goals_in_force.scorecard_id, running_values.grain, running_values.metric_id;

COMMENT ON VIEW bi.scorecard_to_date IS
    'One row per scorecard and metric in its running period: value so far (partial, never scored) and the goals in force for it.';
