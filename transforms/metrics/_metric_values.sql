-- Aggregate the stored facts into one value per metric, grain, period and dimension value.
-- Each fact is counted once per grain and once per dimension of its metric; quantiles read the
-- facts of duration metrics only. Every period between a metric's first and last data gets a row:
-- a value, or NULL with the reason.
WITH grains AS (
    SELECT unnest(getvariable('grains')) AS grain
),
dimensions_needed AS (
    SELECT DISTINCT facts_id, unnest(['all'] || dimensions) AS dimension
    FROM metric_specs
),
facts_by_grain AS NOT MATERIALIZED (
    SELECT
        f.facts_id, f.local_day, f.record_count, f.counts_in_n, f.in_numerator,
        f.service, f.assignment_group, f.priority, f.source, f.provider, f.service_category,
        f.initiative,
        g.grain,
        CASE g.grain WHEN 'week' THEN f.week_period WHEN 'month' THEN f.month_period ELSE f.quarter_period END
            AS period_start,
        f.num * CASE g.grain WHEN 'week' THEN f.week_weight WHEN 'month' THEN f.month_weight
            ELSE f.quarter_weight END AS num,
        f.den * CASE g.grain WHEN 'week' THEN f.week_weight WHEN 'month' THEN f.month_weight
            ELSE f.quarter_weight END AS den
    FROM kpi.metric_facts AS f
    CROSS JOIN grains AS g
),
facts_by_dimension AS NOT MATERIALIZED (
    SELECT
        f.*,
        dn.dimension,
        CASE dn.dimension
            WHEN 'all' THEN 'all'
            WHEN 'service' THEN f.service
            WHEN 'assignment_group' THEN f.assignment_group
            WHEN 'priority' THEN f.priority
            WHEN 'source' THEN f.source
            WHEN 'provider' THEN f.provider
            WHEN 'service_category' THEN f.service_category
            WHEN 'initiative' THEN f.initiative
        END AS dimension_value
    FROM facts_by_grain AS f
    JOIN dimensions_needed AS dn ON dn.facts_id = f.facts_id
    WHERE f.period_start IS NOT NULL
),
period_sums AS (
    SELECT
        facts_id, grain, period_start, dimension, dimension_value,
        sum(num) AS numerator,
        sum(den) AS denominator,
        coalesce(sum(record_count) FILTER (WHERE counts_in_n), 0) AS n,
        coalesce(sum(record_count) FILTER (WHERE in_numerator), 0) AS numerator_records
    FROM facts_by_dimension
    GROUP BY ALL
),
-- Distinct deployment days are counted only for the metrics that need them (a costly aggregate).
period_active_days AS (
    SELECT
        facts_id, grain, period_start, dimension, dimension_value,
        count(DISTINCT local_day) AS active_days
    FROM facts_by_dimension
    WHERE in_numerator
        AND facts_id IN (SELECT facts_id FROM metric_specs WHERE statistic = 'days_per_week')
    GROUP BY ALL
),
quantile_facts AS (
    SELECT
        f.facts_id, g.grain, f.x,
        CASE g.grain WHEN 'week' THEN f.week_period WHEN 'month' THEN f.month_period ELSE f.quarter_period END
            AS period_start,
        f.service, f.assignment_group, f.priority, f.source, f.provider, f.service_category, f.initiative
    FROM kpi.metric_facts AS f
    CROSS JOIN grains AS g
    WHERE f.x IS NOT NULL
        AND f.facts_id IN (SELECT facts_id FROM metric_specs WHERE statistic IN ('median', 'p90'))
),
period_quantiles AS (
    SELECT
        q.facts_id, q.grain, q.period_start, dn.dimension,
        CASE dn.dimension
            WHEN 'all' THEN 'all'
            WHEN 'service' THEN q.service
            WHEN 'assignment_group' THEN q.assignment_group
            WHEN 'priority' THEN q.priority
            WHEN 'source' THEN q.source
            WHEN 'provider' THEN q.provider
            WHEN 'service_category' THEN q.service_category
            WHEN 'initiative' THEN q.initiative
        END AS dimension_value,
        quantile_cont(q.x, [0.5, 0.9]) AS quantiles
    FROM quantile_facts AS q
    JOIN dimensions_needed AS dn ON dn.facts_id = q.facts_id
    WHERE q.period_start IS NOT NULL
    GROUP BY ALL
),
noted_facts_by_grain AS (
    SELECT
        f.*,
        g.grain,
        CASE g.grain WHEN 'week' THEN f.week_period WHEN 'month' THEN f.month_period ELSE f.quarter_period END
            AS period_start
    FROM kpi.metric_facts AS f
    CROSS JOIN grains AS g
    WHERE f.note IS NOT NULL
),
note_counts AS (
    SELECT
        f.facts_id, f.grain, f.period_start, dn.dimension,
        CASE dn.dimension
            WHEN 'all' THEN 'all'
            WHEN 'service' THEN f.service
            WHEN 'assignment_group' THEN f.assignment_group
            WHEN 'priority' THEN f.priority
            WHEN 'source' THEN f.source
            WHEN 'provider' THEN f.provider
            WHEN 'service_category' THEN f.service_category
            WHEN 'initiative' THEN f.initiative
        END AS dimension_value,
        f.note,
        sum(f.record_count) AS records
    FROM noted_facts_by_grain AS f
    JOIN dimensions_needed AS dn ON dn.facts_id = f.facts_id
    WHERE f.period_start IS NOT NULL
    GROUP BY ALL
),
period_notes AS (
    SELECT
        facts_id, grain, period_start, dimension, dimension_value,
        string_agg(format('{} ({})', note, records), ', ' ORDER BY note) AS notes
    FROM note_counts
    GROUP BY ALL
),
-- A count per week has a true zero, so those metrics run on to the period of as_of: weeks without
-- deployments after the last one show 0, not a stale value.
period_ranges AS (
    SELECT
        facts_id,
        grain,
        min(period_start) AS first_period,
        CASE
            WHEN facts_id IN (
                SELECT facts_id FROM metric_specs WHERE statistic IN ('per_week', 'days_per_week')
            )
                THEN greatest(
                    max(period_start),
                    kpi.period_of(grain, getvariable('as_of_day'), getvariable('week_offset'))
                )
            ELSE max(period_start)
        END AS last_period
    FROM period_sums
    WHERE dimension = 'all'
    GROUP BY facts_id, grain
),
periods AS (
    SELECT
        facts_id,
        grain,
        CAST(unnest(generate_series(
            first_period::TIMESTAMP,
            last_period::TIMESTAMP,
            CASE grain WHEN 'week' THEN INTERVAL 7 DAY WHEN 'month' THEN INTERVAL 1 MONTH ELSE INTERVAL 3 MONTH END
        )) AS DATE) AS period_start
    FROM period_ranges
),
dimension_values AS (
    SELECT DISTINCT facts_id, grain, dimension, dimension_value
    FROM period_sums
),
value_grid AS (
    SELECT
        s.metric_id, s.facts_id, s.statistic, s.scale, s.unit, s.min_n, s.noun, s.numerator_noun,
        s.numerator_required, p.grain, p.period_start, dv.dimension, dv.dimension_value
    FROM metric_specs AS s
    JOIN periods AS p ON p.facts_id = s.facts_id
    JOIN dimension_values AS dv ON dv.facts_id = s.facts_id AND dv.grain = p.grain
    WHERE list_contains(['all'] || s.dimensions, dv.dimension)
),
grid_with_sums AS (
    SELECT
        v.*,
        ps.numerator,
        ps.denominator,
        coalesce(ps.n, 0) AS n,
        coalesce(ps.numerator_records, 0) AS numerator_records,
        coalesce(pa.active_days, 0) AS active_days,
        pq.quantiles[1] AS median,
        pq.quantiles[2] AS p90,
        pn.notes,
        sum(ps.numerator) OVER running AS running_numerator,
        sum(ps.denominator) OVER running AS running_denominator,
        sum(coalesce(ps.n, 0)) OVER running AS running_n,
        (least(kpi.period_after(v.grain, v.period_start), getvariable('as_of_day') + 1) - v.period_start)
            / 7.0 AS weeks
    FROM value_grid AS v
    LEFT JOIN period_sums AS ps USING (facts_id, grain, period_start, dimension, dimension_value)
    LEFT JOIN period_active_days AS pa USING (facts_id, grain, period_start, dimension, dimension_value)
    LEFT JOIN period_quantiles AS pq USING (facts_id, grain, period_start, dimension, dimension_value)
    LEFT JOIN period_notes AS pn USING (facts_id, grain, period_start, dimension, dimension_value)
    WINDOW running AS (
        PARTITION BY v.metric_id, v.grain, v.dimension, v.dimension_value ORDER BY v.period_start
    )
),
figures AS (
    SELECT
        *,
        CASE statistic
            WHEN 'cumulative_ratio' THEN running_numerator
            WHEN 'median' THEN numerator
            WHEN 'p90' THEN numerator
            WHEN 'per_week' THEN coalesce(numerator, 0)
            WHEN 'days_per_week' THEN active_days
            WHEN 'ratio' THEN CASE WHEN numerator_required THEN numerator ELSE coalesce(numerator, 0) END
            ELSE numerator
        END AS shown_numerator,
        CASE statistic
            WHEN 'cumulative_ratio' THEN running_denominator
            WHEN 'median' THEN n
            WHEN 'p90' THEN n
            WHEN 'sum' THEN NULL
            WHEN 'per_week' THEN weeks
            WHEN 'days_per_week' THEN weeks
            ELSE denominator
        END AS shown_denominator,
        CASE statistic WHEN 'cumulative_ratio' THEN running_n ELSE n END AS shown_n
    FROM grid_with_sums
),
judged AS (
    SELECT
        *,
        CASE
            WHEN shown_n < min_n AND shown_n = 0 THEN format('no data: no {} in period', noun)
            WHEN shown_n < min_n THEN format('too little data: n={} below the minimum of {}', shown_n, min_n)
            WHEN numerator_required AND numerator_records = 0
                THEN format('no data: no {} for period', numerator_noun)
            WHEN statistic IN ('ratio', 'cumulative_ratio') AND coalesce(shown_denominator, 0) = 0
                THEN 'denominator is zero'
            WHEN statistic IN ('per_week', 'days_per_week') AND shown_denominator <= 0
                THEN 'period starts after as_of'
        END AS reason
    FROM figures
)
SELECT
    metric_id,
    grain,
    period_start,
    dimension,
    dimension_value,
    CASE
        WHEN reason IS NOT NULL THEN NULL
        WHEN statistic IN ('ratio', 'cumulative_ratio') THEN shown_numerator / shown_denominator * scale
        WHEN statistic = 'median' THEN median
        WHEN statistic = 'p90' THEN p90
        WHEN statistic = 'sum' THEN coalesce(shown_numerator, 0) * scale
        ELSE shown_numerator / shown_denominator * scale
    END AS value,
    shown_numerator AS numerator,
    shown_denominator AS denominator,
    shown_n AS n,
    unit,
    concat_ws(
        '; ',
        format('{} {}', shown_n, noun),
        CASE WHEN numerator_noun IS NOT NULL THEN format('{} {}', numerator_records, numerator_noun) END,
        notes
    ) AS coverage,
    reason,
    getvariable('computed_at') AS computed_at
FROM judged
