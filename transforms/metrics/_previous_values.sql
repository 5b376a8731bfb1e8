-- Before a run replaces kpi.metric_values: the values the previous run gave complete periods of
-- dimension 'all' (what the scorecard scored and leaders saw), with the settings and the
-- definition they were computed under, for _restatements.sql to compare with this run's. One
-- row per metric, grain and complete period: thousands, not the dimensions' millions. The runner
-- sets this run's timezone, as_of and as_of_day first.

-- What must not change for two runs' values of a metric to be comparable: its own definition
-- and the params of the metric owning its facts (which select the records). A view, read when
-- queried: here it gives the previous run's definitions, in _restatements.sql this run's.
CREATE OR REPLACE TEMP VIEW metric_definition_keys AS
SELECT
    metric.metric_id,
    metric.unit,
    {
        'facts_id': metric.facts_id,
        'statistic': metric.statistic,
        'scale': metric.scale,
        'min_n': metric.min_n,
        'dimensions': metric.dimensions,
        'worst_of': metric.worst_of,
        'params': CAST(metric.params AS VARCHAR),
        'facts_params': CAST(facts_owner.params AS VARCHAR)
    } AS definition
FROM kpi.metric_definitions AS metric
LEFT JOIN kpi.metric_definitions AS facts_owner ON facts_owner.metric_id = metric.facts_id;

-- Each metric and grain the previous run computed, with its first period (dimension 'all') and
-- the settings and definition it was computed under: a period before the first that has a value
-- now had none then, which late data restates too. The comparison's key for previous_values.
CREATE OR REPLACE TEMP TABLE previous_series AS
SELECT
    value.metric_id,
    value.grain,
    min(value.period_start) AS first_period,
    previous_run.as_of,
    previous_run.timezone,
    previous_run.week_start,
    previous_run.computed_at,
    definition_key.definition
FROM kpi.metric_values AS value
CROSS JOIN kpi.metric_runs AS previous_run
JOIN metric_definition_keys AS definition_key USING (metric_id)
WHERE value.dimension = 'all'
GROUP BY ALL;

-- A run again on the same day as the previous one (a re-run after a fix; the date of as_of in
-- this run's time zone) compares with what that run compared with: a value it restated keeps its
-- value from before, so a second run that finds nothing new does not erase the day's
-- restatements, and a value put back is not listed.
CREATE OR REPLACE TEMP TABLE previous_values AS
WITH restated_today AS (
    SELECT
        restated.metric_id,
        restated.grain,
        restated.period_start,
        restated.previous_value AS value,
        restated.previous_computed_at AS computed_at
    FROM kpi.metric_restatements AS restated
    CROSS JOIN kpi.metric_runs AS previous_run
    WHERE CAST(previous_run.as_of AT TIME ZONE getvariable('timezone') AS DATE)
        = getvariable('as_of_day')
)
SELECT metric_id, grain, period_start, value, computed_at
FROM kpi.metric_values
ANTI JOIN restated_today USING (metric_id, grain, period_start)
WHERE dimension = 'all' AND period_complete
UNION ALL
SELECT * FROM restated_today;
