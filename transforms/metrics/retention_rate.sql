-- Staff retained over the staff at the start of the same cohort window.
SELECT
    'measure' AS record_table,
    record_id,
    first_day AS local_day,
    last_day AS span_last,
    true AS fill_bucket,
    source,
    CASE metric_id WHEN 'staff_retained' THEN value END AS num,
    CASE metric_id WHEN 'staff_start' THEN value END AS den,
    metric_id = 'staff_retained' AS in_numerator,
    metric_id = 'staff_start' AS in_denominator
FROM measure_inputs
WHERE metric_id IN ('staff_start', 'staff_retained') AND dimension = 'all'
