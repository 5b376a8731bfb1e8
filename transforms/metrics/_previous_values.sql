-- Before a run replaces kpi.metric_values: the values the previous run gave complete periods of
-- dimension 'all' (what the scorecard scored and leaders saw), with the settings and the
-- definition they were computed under, for _restatements.sql to compare with this run's. One
-- row per metric, grain and complete period: thousands, not the dimensions' millions. Also what
-- the previous run restated, with the value before it, which a run on the same day keeps.

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

CREATE OR REPLACE TEMP TABLE previous_values AS
SELECT
    value_row.metric_id,
    value_row.grain,
    value_row.period_start,
    value_row.value,
    value_row.computed_at,
    previous_run.as_of,
    previous_run.timezone,
    previous_run.week_start,
    definition_key.definition
FROM kpi.metric_values AS value_row
CROSS JOIN kpi.metric_runs AS previous_run
JOIN metric_definition_keys AS definition_key USING (metric_id)
WHERE value_row.dimension = 'all' AND value_row.period_complete;

CREATE OR REPLACE TEMP TABLE previous_restatements AS
SELECT
    restated.metric_id,
    restated.grain,
    restated.period_start,
    restated.previous_value AS value,
    restated.previous_computed_at AS computed_at,
    previous_run.as_of,
    previous_run.timezone,
    previous_run.week_start,
    definition_key.definition
FROM kpi.metric_restatements AS restated
CROSS JOIN kpi.metric_runs AS previous_run
JOIN metric_definition_keys AS definition_key USING (metric_id);
