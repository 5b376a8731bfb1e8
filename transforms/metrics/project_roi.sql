-- Benefit and cost inputs per initiative; the runner accumulates them over the horizon.
-- A return so far holds every input whose span has ended by the end of the period, so an input
-- counts from the period of its last day at every grain (a quarter's from the quarter's last
-- month) rather than only at grains whose period holds its whole span, which left a quarter's
-- cost out of every monthly return; an input whose span runs past as_of counts from as_of's.
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
    greatest(first_day, least(last_day, getvariable('as_of_day'))) AS local_day,
    initiative,
    source,
    CASE metric_id WHEN 'project_benefit' THEN value ELSE -value END AS num,
    CASE metric_id WHEN 'project_cost' THEN value END AS den,
    true AS in_numerator,
    metric_id = 'project_cost' AS in_denominator
FROM project_inputs
