-- The sums (and quantiles) of one facts file per grain, period and value of one dimension, for
-- _metric_values.sql. One aggregate per dimension, each reading the dimension's own column, with
-- each grain reading its own period column, costs about a third less CPU than placing every fact
-- under every grain and dimension first and grouping the lot (measured on the full-scale
-- benchmark warehouse); a dimension no metric of the facts file shows is a constant false
-- filter, so it costs nothing.
-- The runner sets batch_facts_id, batch_dimensions and batch_needs_quantiles (_batch.sql).

-- The facts of the batch at every grain, with their contribution's weight at that grain. One
-- branch per grain reading that grain's columns costs about half of a join with the grains that
-- picks them row by row.
CREATE OR REPLACE TEMP VIEW batch_facts_by_grain AS
SELECT *, 'week' AS grain, week_period AS period_start, week_weight AS weight
FROM kpi.metric_facts
WHERE facts_id = getvariable('batch_facts_id')
    AND list_contains(getvariable('grains'), 'week')
    AND week_period IS NOT NULL
UNION ALL
SELECT *, 'month' AS grain, month_period AS period_start, month_weight AS weight
FROM kpi.metric_facts
WHERE facts_id = getvariable('batch_facts_id')
    AND list_contains(getvariable('grains'), 'month')
    AND month_period IS NOT NULL
UNION ALL
SELECT *, 'quarter' AS grain, quarter_period AS period_start, quarter_weight AS weight
FROM kpi.metric_facts
WHERE facts_id = getvariable('batch_facts_id')
    AND list_contains(getvariable('grains'), 'quarter')
    AND quarter_period IS NOT NULL
;

-- The batch's figures by grain, period and value of `dimension` ('all' for the total). The
-- quantiles are taken in the same pass, and only for the facts of a median or p90.
CREATE OR REPLACE TEMP MACRO period_sums_by(dimension) AS TABLE
SELECT
    getvariable('batch_facts_id') AS facts_id,
    grain,
    period_start,
    dimension AS dimension,
    kpi.dimension_value(
        dimension, service, assignment_group, priority, source, provider, service_category, initiative
    ) AS dimension_value,
    sum(num * weight) AS numerator,
    sum(den * weight) AS denominator,
    coalesce(sum(record_count) FILTER (WHERE counts_in_n), 0) AS n,
    coalesce(sum(record_count) FILTER (WHERE in_numerator), 0) AS numerator_records,
    quantile_cont(x, [0.5, 0.9]) FILTER (WHERE x IS NOT NULL AND getvariable('batch_needs_quantiles'))
        AS quantiles
FROM batch_facts_by_grain
WHERE list_contains(getvariable('batch_dimensions'), dimension)
GROUP BY grain, period_start, dimension_value
;
