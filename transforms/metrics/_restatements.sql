-- The values this run changed in periods already complete in the previous run, or in the day's
-- first run (one row each in kpi.metric_restatements): late data such as a source read again,
-- restated cloud costs or a ticket closed late moves a period leaders have seen scored, and the
-- scorecard says so. Run once kpi.metric_values and kpi.metric_runs hold this run's figures;
-- previous_values and metric_definition_keys come from _previous_values.sql. Dimension 'all' only.
WITH this_run AS (
    SELECT as_of, timezone, week_start FROM kpi.metric_runs
),
-- Another calendar places records in other periods, a run of an earlier night (a backfill) sees
-- less of them, and a changed definition is a new metric, not late data: none is compared. Nor
-- is a grain this run does not compute.
comparable_series AS (
    SELECT previous.*, definition_key.unit
    FROM previous_series AS previous
    JOIN this_run
        ON this_run.timezone = previous.timezone
        AND this_run.week_start = previous.week_start
        AND this_run.as_of >= previous.as_of
    JOIN metric_definition_keys AS definition_key
        ON definition_key.metric_id = previous.metric_id
        AND definition_key.definition IS NOT DISTINCT FROM previous.definition
    WHERE list_contains(getvariable('grains'), previous.grain)
),
-- A period before a metric's first records (they were deleted at the source) has no row now:
-- its value is gone, which is a restatement too.
compared AS (
    SELECT
        previous.metric_id,
        previous.grain,
        previous.period_start,
        series.unit,
        previous.value AS previous_value,
        current_value.value,
        CASE
            WHEN current_value.metric_id IS NULL
                THEN 'no value: no records in or before the period any more'
            ELSE current_value.reason
        END AS reason,
        previous.computed_at AS previous_computed_at
    FROM previous_values AS previous
    JOIN comparable_series AS series USING (metric_id, grain)
    LEFT JOIN kpi.metric_values AS current_value
        ON current_value.metric_id = previous.metric_id
        AND current_value.grain = previous.grain
        AND current_value.period_start = previous.period_start
        AND current_value.dimension = 'all'
    UNION ALL
    -- A period before the metric's first one in the previous run, already over then, that has a
    -- value now: records dated back into it arrived late (an import, a ticket logged days after).
    SELECT
        current_value.metric_id,
        current_value.grain,
        current_value.period_start,
        series.unit,
        NULL AS previous_value,
        current_value.value,
        current_value.reason,
        series.computed_at AS previous_computed_at
    FROM kpi.metric_values AS current_value
    JOIN comparable_series AS series USING (metric_id, grain)
    -- One the day's first run compared already (a re-run's baseline) is compared above.
    ANTI JOIN previous_values USING (metric_id, grain, period_start)
    WHERE current_value.dimension = 'all'
        AND current_value.period_complete
        AND current_value.period_start < series.first_period
        AND kpi.period_after(current_value.grain, current_value.period_start)::TIMESTAMP
            <= series.as_of AT TIME ZONE series.timezone
)
SELECT
    metric_id,
    grain,
    period_start,
    unit,
    previous_value,
    value,
    reason,
    previous_computed_at,
    getvariable('computed_at') AS computed_at
FROM compared
-- A relative tolerance, so float noise from another summation order is no restatement.
WHERE (previous_value IS NULL) <> (value IS NULL)
    OR abs(value - previous_value) > 1e-9 * greatest(abs(previous_value), abs(value))
