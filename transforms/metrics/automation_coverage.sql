-- Automation coverage: a stock input (0-100), averaged over the time it covers in the period.
SELECT
    'measure' AS record_table,
    record_id,
    first_day AS local_day,
    last_day AS span_last,
    true AS weight_by_span,
    source,
    value AS num,
    1.0 AS den,
    true AS in_numerator,
    true AS in_denominator
FROM measure_inputs
WHERE metric_id = 'automation_coverage' AND dimension = 'all'
