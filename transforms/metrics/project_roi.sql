-- Benefit and cost inputs per initiative; the runner accumulates them over the horizon.
WITH project_inputs AS (
    SELECT
        *,
        CASE dimension WHEN 'initiative' THEN dimension_value ELSE '(unspecified)' END AS initiative
    FROM measure_inputs
    WHERE metric_id IN ('project_benefit', 'project_cost')
)
SELECT
    'measure' AS record_table,
    record_id,
    first_day AS local_day,
    last_day AS span_last,
    initiative,
    source,
    CASE metric_id WHEN 'project_benefit' THEN value ELSE -value END AS num,
    CASE metric_id WHEN 'project_cost' THEN value END AS den,
    true AS in_numerator,
    metric_id = 'project_cost' AS in_denominator
FROM project_inputs
