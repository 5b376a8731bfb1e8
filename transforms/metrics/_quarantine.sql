-- Every value the range check quarantined, as a data-quality problem of kpi.metric_values: which
-- metric, grain, period and dimension value, the value refused, and the sources of the records
-- behind it (so the owner of the bad input can be found).
WITH quarantined AS (
    SELECT v.metric_id, v.grain, v.period_start, v.dimension, v.dimension_value, v.reason, d.facts_id,
        d.statistic
    FROM kpi.metric_values AS v
    JOIN kpi.metric_definitions AS d USING (metric_id)
    WHERE starts_with(v.reason, 'quarantined: ')
),
record_sources AS (
    SELECT
        q.metric_id, q.grain, q.period_start, q.dimension, q.dimension_value,
        string_agg(DISTINCT f.source, ',' ORDER BY f.source) AS sources
    FROM quarantined AS q
    JOIN kpi.metric_facts AS f
        ON f.facts_id = q.facts_id
        AND kpi.dimension_value(
            q.dimension, f.service, f.assignment_group, f.priority, f.source, f.provider,
            f.service_category, f.initiative
        ) = q.dimension_value
    WHERE f.source <> '(unknown)'
        AND (kpi.at_grain(q.grain, f.week_period, f.month_period, f.quarter_period) = q.period_start
            OR (q.statistic = 'cumulative_ratio'
                AND kpi.at_grain(q.grain, f.week_period, f.month_period, f.quarter_period) < q.period_start))
    GROUP BY ALL
)
SELECT
    coalesce(s.sources, '(unknown)') AS source,
    'metric_values' AS table_name,
    format('{}/{}/{}/{}={}', q.metric_id, q.grain, q.period_start, q.dimension, q.dimension_value)
        AS record_key,
    'value' AS field,
    q.reason AS problem,
    regexp_extract(q.reason, 'kpi_values_in_range: (\S+)', 1) AS value,
    getvariable('computed_at') AS detected_at
FROM quarantined AS q
LEFT JOIN record_sources AS s USING (metric_id, grain, period_start, dimension, dimension_value)
