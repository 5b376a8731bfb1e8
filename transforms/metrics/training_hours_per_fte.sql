-- Training hours (a flow) over the time-weighted average headcount (a stock) of the period.
WITH training_inputs AS (
    SELECT 'measure' AS record_table, record_id, first_day AS local_day, last_day AS span_last,
        value AS num, true AS in_numerator, false AS in_denominator, source
    FROM measure_inputs
    WHERE metric_id = 'training_hours' AND dimension = 'all'
),
headcount_inputs AS (
    SELECT 'measure' AS record_table, record_id, first_day AS local_day, last_day AS span_last,
        true AS weight_by_span, value AS den, false AS in_numerator, true AS in_denominator, source
    FROM measure_inputs
    WHERE metric_id = 'headcount_fte' AND dimension = 'all'
)
SELECT * FROM training_inputs
UNION ALL BY NAME
SELECT * FROM headcount_inputs
