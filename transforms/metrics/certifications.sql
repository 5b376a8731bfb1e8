-- Certifications earned: a flow input summed over the period.
SELECT
    'measure' AS record_table,
    record_id,
    first_day AS local_day,
    last_day AS span_last,
    source,
    value AS num,
    true AS in_numerator,
    true AS counts_in_n
FROM measure_inputs
WHERE metric_id = 'certifications' AND dimension = 'all'
