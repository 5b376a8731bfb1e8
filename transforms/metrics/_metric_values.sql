-- Aggregate the stored facts into one value per metric, grain, period and dimension value.
-- Dimension 'all' gets every period from a metric's first period with data to the period of
-- as_of, so gaps and a source that stopped delivering show as NULL with a reason. Any other
-- dimension value gets a row only for a period in which it has records, so the work grows with
-- the data, not with dimension values x periods. Only elapsed time counts in the running period,
-- which is marked period_complete = false, as is a period that ended after the last read of one
-- of its sources (meta.source_reads). A value the metric cannot take is quarantined: NULL,
-- with the check named in its reason.
-- The runner executes this once per facts file (variable batch_facts_id, with _batch.sql), for
-- every grain of getvariable('grains') in the same pass: every figure is keyed by facts file and
-- grain, so a batch needs nothing from another, and memory is bounded by the largest facts file
-- instead of by all facts x grains x dimensions at once.
WITH batch_specs AS (
    SELECT * FROM metric_specs WHERE facts_id = getvariable('batch_facts_id')
),
-- Each fact under every grain and dimension it is shown by, for the two small figures below
-- (notes and deployment days); the sums and quantiles come per dimension from period_sums_by
-- (_period_sums.sql), which reads the facts where used instead of placing them all here first.
facts_by_period AS NOT MATERIALIZED (
    SELECT
        f.facts_id, f.grain, f.period_start, f.local_day, f.covered_days, f.record_count,
        f.in_numerator, f.in_denominator, f.note,
        dn.dimension,
        kpi.dimension_value(
            dn.dimension, f.service, f.assignment_group, f.priority, f.source, f.provider,
            f.service_category, f.initiative
        ) AS dimension_value
    FROM batch_facts_by_grain AS f
    CROSS JOIN (SELECT unnest(getvariable('batch_dimensions')) AS dimension) AS dn
),
-- One line per dimension kpi.dimension_value knows (those the batch does not show are empty).
period_sums AS (
    SELECT * FROM period_sums_by('all')
    UNION ALL SELECT * FROM period_sums_by('service')
    UNION ALL SELECT * FROM period_sums_by('assignment_group')
    UNION ALL SELECT * FROM period_sums_by('priority')
    UNION ALL SELECT * FROM period_sums_by('source')
    UNION ALL SELECT * FROM period_sums_by('provider')
    UNION ALL SELECT * FROM period_sums_by('service_category')
    UNION ALL SELECT * FROM period_sums_by('initiative')
),
-- Distinct deployment days are counted only for the metrics that need them (a costly aggregate).
period_active_days AS (
    SELECT
        facts_id, grain, period_start, dimension, dimension_value,
        count(DISTINCT local_day) AS active_days
    FROM facts_by_period
    WHERE in_numerator
        AND facts_id IN (SELECT facts_id FROM batch_specs WHERE statistic = 'days_per_week')
    GROUP BY ALL
),
-- The days the span inputs (manual inputs over a month, a quarter...) of the numerator and the
-- denominator cover in the period: each day once, and as entered (each input's days, summed).
-- More entered than covered means two inputs cover the same days (a month's cost and a week's
-- within it), so the period is neither complete by that count nor summed (judged below). Only
-- the span inputs are read here, a few rows, not the facts at large.
span_days AS (
    SELECT
        facts_id, grain, period_start, dimension, dimension_value,
        count(DISTINCT day) FILTER (WHERE in_numerator) AS numerator_days,
        count(DISTINCT day) FILTER (WHERE in_denominator) AS denominator_days,
        count(*) FILTER (WHERE in_numerator) AS numerator_entered_days,
        count(*) FILTER (WHERE in_denominator) AS denominator_entered_days
    FROM (
        SELECT
            *,
            unnest(generate_series(
                local_day::TIMESTAMP, (local_day + covered_days - 1)::TIMESTAMP, INTERVAL 1 DAY
            )) AS day
        FROM facts_by_period
        WHERE covered_days IS NOT NULL
    )
    GROUP BY ALL
),
note_counts AS (
    SELECT
        facts_id, grain, period_start, dimension, dimension_value, note,
        sum(record_count) AS records
    FROM facts_by_period
    WHERE note IS NOT NULL
    GROUP BY ALL
),
-- A fact may carry several notes joined by '; '; each is counted on its own. Split per group of
-- equal notes, not per fact, so the cost does not grow with the records.
single_note_counts AS (
    SELECT
        facts_id, grain, period_start, dimension, dimension_value, single_note AS note,
        sum(records) AS records
    FROM (
        SELECT *, unnest(string_split(note, '; ')) AS single_note
        FROM note_counts
    )
    GROUP BY ALL
),
period_notes AS (
    SELECT
        facts_id, grain, period_start, dimension, dimension_value,
        string_agg(format('{} ({})', note, records), ', ' ORDER BY note) AS notes
    FROM single_note_counts
    GROUP BY ALL
),
-- The lowest ratio among the values of another dimension (e.g. the worst service's availability).
lowest_ratio_figures AS (
    SELECT
        s.metric_id, ps.grain, ps.period_start,
        arg_min(ps.dimension_value, (ps.numerator / ps.denominator, ps.dimension_value)) AS lowest_of,
        arg_min(ps.numerator, (ps.numerator / ps.denominator, ps.dimension_value)) AS lowest_numerator,
        arg_min(ps.denominator, (ps.numerator / ps.denominator, ps.dimension_value))
            AS lowest_denominator,
        count(*) AS compared
    FROM batch_specs AS s
    JOIN period_sums AS ps ON ps.facts_id = s.facts_id AND ps.dimension = s.worst_of
    WHERE s.statistic = 'lowest_ratio' AND ps.n >= greatest(s.min_n, 1) AND ps.denominator <> 0
    GROUP BY ALL
),
-- ... with the notes of that value alone, which describe the figures shown.
lowest_ratios AS (
    SELECT lr.*, pn.notes AS lowest_notes
    FROM lowest_ratio_figures AS lr
    JOIN batch_specs AS s USING (metric_id)
    LEFT JOIN period_notes AS pn
        ON pn.facts_id = s.facts_id AND pn.grain = lr.grain AND pn.period_start = lr.period_start
        AND pn.dimension = s.worst_of AND pn.dimension_value = lr.lowest_of
),
all_period_ranges AS (
    SELECT
        facts_id,
        grain,
        min(period_start) AS first_period,
        -- A complete period after the last one with records is no data, not a count of zero
        -- (judged below), unless its sources were read after it: the source may have stopped,
        -- and scoring it 0 would hide that.
        max(period_start) FILTER (WHERE n > 0) AS last_recorded_period,
        greatest(
            max(period_start),
            kpi.period_of(grain, getvariable('as_of_day'), getvariable('week_offset'))
        ) AS last_period,
        false AS never_recorded
    FROM period_sums
    WHERE dimension = 'all'
    GROUP BY facts_id, grain
    UNION ALL
    -- A facts file without a single fact yet (no outage records, no security incident so far)
    -- still gets each grain's last complete period and the running one, without a value and
    -- saying why, so its metrics stay on the scorecard (grey) instead of leaving it unseen.
    SELECT
        getvariable('batch_facts_id') AS facts_id,
        grain,
        kpi.period_of(
            grain,
            kpi.period_of(grain, getvariable('as_of_day'), getvariable('week_offset')) - 1,
            getvariable('week_offset')
        ) AS first_period,
        NULL AS last_recorded_period,
        kpi.period_of(grain, getvariable('as_of_day'), getvariable('week_offset')) AS last_period,
        true AS never_recorded
    FROM (SELECT unnest(getvariable('grains')) AS grain)
    WHERE NOT EXISTS (SELECT 1 FROM period_sums WHERE dimension = 'all')
),
all_periods AS (
    SELECT
        facts_id,
        grain,
        CAST(unnest(generate_series(
            first_period::TIMESTAMP,
            last_period::TIMESTAMP,
            CASE grain WHEN 'week' THEN INTERVAL 7 DAY WHEN 'month' THEN INTERVAL 1 MONTH ELSE INTERVAL 3 MONTH END
        )) AS DATE) AS period_start,
        'all' AS dimension,
        'all' AS dimension_value,
        last_recorded_period,
        never_recorded
    FROM all_period_ranges
),
-- The sources of the batch's records that were ever read (sources_reads, once per run in
-- _facts_input.sql), and of them those still read or delivering (batch_sources), each with the
-- local time up to which it has been read to its end (a cost API up to the UTC day it asked for,
-- a FOCUS file up to its latest charge). A period is
-- complete only once every such source was read after it ended: a night the source was down, or
-- its export not yet delivered, does not close a month with its last day missing, even when the
-- source had no record in the month before that day (a quiet source, or one of two feeding a
-- metric). A source not read (or delivering no newer charge) for a week is retired or broken and
-- holds no period back.
batch_reads AS (
    SELECT
        f.source,
        any_value(r.read_through) AS read_through,
        bool_or(r.still_read) AS still_read
    FROM kpi.metric_facts AS f
    JOIN sources_reads AS r ON r.source = f.source
    WHERE f.facts_id = getvariable('batch_facts_id')
    GROUP BY f.source
),
batch_sources AS (
    SELECT source, read_through FROM batch_reads WHERE still_read
),
-- Everything known about one facts file's period and dimension value, in one narrow row.
period_figures AS (
    SELECT
        ps.* EXCLUDE (quantiles),
        coalesce(pa.active_days, 0) AS active_days,
        coalesce(sd.numerator_days, 0) AS numerator_days,
        coalesce(sd.denominator_days, 0) AS denominator_days,
        coalesce(sd.numerator_entered_days, 0) AS numerator_entered_days,
        coalesce(sd.denominator_entered_days, 0) AS denominator_entered_days,
        ps.quantiles[1] AS median,
        ps.quantiles[2] AS p90,
        pn.notes
    FROM period_sums AS ps
    LEFT JOIN period_active_days AS pa USING (facts_id, grain, period_start, dimension, dimension_value)
    LEFT JOIN span_days AS sd USING (facts_id, grain, period_start, dimension, dimension_value)
    LEFT JOIN period_notes AS pn USING (facts_id, grain, period_start, dimension, dimension_value)
),
-- The 'all' grid with its figures where it has records, and every other dimension's rows as
-- they are: no join of the (large) dimension rows against a grid.
value_rows AS (
    SELECT
        g.facts_id, g.grain, g.period_start, g.dimension, g.dimension_value,
        pf.numerator, pf.denominator, pf.n, pf.numerator_records, pf.numerator_days,
        pf.denominator_days, pf.numerator_entered_days, pf.denominator_entered_days,
        pf.active_days, pf.median, pf.p90, pf.notes, g.last_recorded_period, g.never_recorded
    FROM all_periods AS g
    LEFT JOIN period_figures AS pf USING (facts_id, grain, period_start, dimension, dimension_value)
    UNION ALL
    SELECT
        facts_id, grain, period_start, dimension, dimension_value,
        numerator, denominator, n, numerator_records, numerator_days, denominator_days,
        numerator_entered_days, denominator_entered_days,
        active_days, median, p90, notes, NULL AS last_recorded_period, false AS never_recorded
    FROM period_figures
    WHERE dimension <> 'all'
),
-- The periods that ended by as_of but after one of their sources was last read, and which.
periods_awaiting_reads AS (
    SELECT
        p.grain,
        p.period_start,
        string_agg(
            format('{} read up to {}', s.source, strftime(s.read_through, '%Y-%m-%d %H:%M')),
            ', ' ORDER BY s.source
        ) AS awaiting
    FROM (
        SELECT DISTINCT grain, period_start, kpi.period_after(grain, period_start)::TIMESTAMP AS ended
        FROM value_rows
    ) AS p
    JOIN batch_sources AS s ON s.read_through < p.ended
    WHERE p.ended <= getvariable('as_of_local')
    GROUP BY p.grain, p.period_start
),
-- The periods that every source still read (batch_sources) was read after: a quiet period after
-- the last records is then a real zero (the sources answered and had nothing), not a source gone
-- quiet. When none is still read (a week without a read), the last read of any of them decides,
-- so the zeros it confirmed stay zeros and only the periods after it are no data. Without any
-- read (files only) it stays no data.
periods_read_after AS (
    SELECT p.grain, p.period_start
    FROM (
        SELECT DISTINCT grain, period_start, kpi.period_after(grain, period_start)::TIMESTAMP AS ended
        FROM value_rows
        WHERE dimension = 'all'
    ) AS p
    CROSS JOIN batch_reads AS s
    GROUP BY p.grain, p.period_start, p.ended
    HAVING bool_and(s.read_through >= p.ended OR NOT s.still_read)
        AND bool_or(s.read_through >= p.ended)
),
-- Running sums for cumulative metrics only (the portfolio and initiative inputs), so no window
-- runs over the large dimensions of other metrics.
running_sums AS (
    SELECT
        facts_id, grain, period_start, dimension, dimension_value,
        sum(numerator) OVER running AS running_numerator,
        sum(denominator) OVER running AS running_denominator,
        sum(coalesce(n, 0)) OVER running AS running_n
    FROM value_rows
    WHERE facts_id IN (SELECT facts_id FROM batch_specs WHERE statistic = 'cumulative_ratio')
    WINDOW running AS (
        PARTITION BY facts_id, grain, dimension, dimension_value ORDER BY period_start
    )
),
grid_with_sums AS (
    SELECT
        s.*,
        v.grain,
        v.period_start,
        v.dimension,
        v.dimension_value,
        kpi.period_after(v.grain, v.period_start) - v.period_start AS period_days,
        kpi.period_after(v.grain, v.period_start)::TIMESTAMP <= getvariable('as_of_local')
            AND pw.awaiting IS NULL AS period_complete,
        pw.awaiting,
        pr.period_start IS NOT NULL AS read_after_period,
        (epoch(least(kpi.period_after(v.grain, v.period_start)::TIMESTAMP, getvariable('as_of_local')))
            - epoch(v.period_start::TIMESTAMP)) / (7 * 86400.0) AS elapsed_weeks,
        v.numerator,
        v.denominator,
        coalesce(v.n, 0) AS n,
        coalesce(v.numerator_records, 0) AS numerator_records,
        coalesce(v.numerator_days, 0) AS numerator_days,
        coalesce(v.denominator_days, 0) AS denominator_days,
        coalesce(v.numerator_entered_days, 0) AS numerator_entered_days,
        coalesce(v.denominator_entered_days, 0) AS denominator_entered_days,
        coalesce(v.active_days, 0) AS active_days,
        v.median,
        v.p90,
        CASE WHEN s.statistic = 'lowest_ratio' THEN lr.lowest_notes ELSE v.notes END AS notes,
        v.last_recorded_period,
        v.never_recorded,
        lr.lowest_of,
        lr.lowest_numerator,
        lr.lowest_denominator,
        coalesce(lr.compared, 0) AS compared,
        rs.running_numerator,
        rs.running_denominator,
        rs.running_n
    FROM value_rows AS v
    JOIN batch_specs AS s
        ON s.facts_id = v.facts_id AND list_contains(['all'] || s.dimensions, v.dimension)
    LEFT JOIN running_sums AS rs
        ON rs.facts_id = v.facts_id AND rs.grain = v.grain AND rs.period_start = v.period_start
        AND rs.dimension = v.dimension AND rs.dimension_value = v.dimension_value
    LEFT JOIN lowest_ratios AS lr
        ON lr.metric_id = s.metric_id AND lr.grain = v.grain AND lr.period_start = v.period_start
    LEFT JOIN periods_awaiting_reads AS pw
        ON pw.grain = v.grain AND pw.period_start = v.period_start
    LEFT JOIN periods_read_after AS pr
        ON pr.grain = v.grain AND pr.period_start = v.period_start
),
figures AS (
    SELECT
        *,
        CASE statistic
            WHEN 'cumulative_ratio' THEN running_numerator
            WHEN 'lowest_ratio' THEN lowest_numerator
            WHEN 'per_week' THEN coalesce(numerator, 0)
            WHEN 'days_per_week' THEN active_days
            WHEN 'ratio' THEN CASE WHEN numerator_required THEN numerator ELSE coalesce(numerator, 0) END
            ELSE numerator
        END AS shown_numerator,
        CASE statistic
            WHEN 'cumulative_ratio' THEN running_denominator
            WHEN 'lowest_ratio' THEN lowest_denominator
            WHEN 'median' THEN n
            WHEN 'p90' THEN n
            WHEN 'sum' THEN NULL
            WHEN 'per_week' THEN elapsed_weeks
            WHEN 'days_per_week' THEN elapsed_weeks
            ELSE denominator
        END AS shown_denominator,
        CASE statistic
            WHEN 'cumulative_ratio' THEN running_n
            WHEN 'lowest_ratio' THEN compared
            ELSE n
        END AS shown_n
    FROM grid_with_sums
),
judged AS (
    SELECT
        *,
        CASE
            WHEN never_recorded THEN format('no data: no {} yet', noun)
            WHEN shown_n < min_n AND shown_n = 0 THEN format('no data: no {} in period', noun)
            WHEN shown_n < min_n THEN format('too little data: n={} below the minimum of {}', shown_n, min_n)
            WHEN numerator_required AND numerator_records = 0
                THEN format('no data: no {} for period', numerator_noun)
            WHEN numerator_covers_period AND numerator_entered_days > numerator_days
                THEN format('{} overlap: {} days entered more than once', numerator_noun,
                    numerator_entered_days - numerator_days)
            WHEN denominator_covers_period AND denominator_entered_days > denominator_days
                THEN format('{} overlap: {} days entered more than once', noun,
                    denominator_entered_days - denominator_days)
            WHEN numerator_covers_period AND numerator_days < period_days
                THEN format('incomplete {}: {} of {} days covered', numerator_noun, numerator_days, period_days)
            WHEN denominator_covers_period AND denominator_days < period_days
                THEN format('incomplete {}: {} of {} days covered', noun, denominator_days, period_days)
            WHEN numerator_covers_period AND NOT period_complete
                THEN format('period not complete: {} cover the whole period, {} only up to as_of',
                    numerator_noun, noun)
            WHEN statistic IN ('ratio', 'cumulative_ratio', 'lowest_ratio')
                AND coalesce(shown_denominator, 0) = 0
                THEN 'denominator is zero'
            WHEN statistic IN ('per_week', 'days_per_week') AND shown_denominator <= 0
                THEN 'no time elapsed in the period by as_of'
            WHEN shown_n = 0 AND period_complete AND period_start > last_recorded_period
                AND NOT read_after_period
                THEN format('no data: no {} since the {} starting {}', noun, grain,
                    strftime(last_recorded_period, '%Y-%m-%d'))
        END AS reason,
        CASE
            WHEN statistic = 'median' THEN median
            WHEN statistic = 'p90' THEN p90
            WHEN statistic = 'sum' THEN coalesce(shown_numerator, 0) * scale
            ELSE shown_numerator / shown_denominator * scale
        END AS computed_value
    FROM figures
),
checked AS (
    SELECT
        *,
        coalesce(reason, kpi.out_of_range_reason(computed_value, range_low, range_high)) AS final_reason
    FROM judged
)
SELECT
    metric_id,
    grain,
    period_start,
    dimension,
    dimension_value,
    CASE WHEN final_reason IS NULL THEN computed_value END AS value,
    shown_numerator AS numerator,
    shown_denominator AS denominator,
    shown_n AS n,
    unit,
    concat_ws(
        '; ',
        format('{} {}', shown_n, noun),
        CASE WHEN numerator_noun IS NOT NULL THEN format('{} {}', numerator_records, numerator_noun) END,
        CASE WHEN lowest_of IS NOT NULL THEN format('lowest: {}', lowest_of) END,
        notes,
        'not complete until read again: ' || awaiting
    ) AS coverage,
    final_reason AS reason,
    period_complete,
    lowest_of,
    getvariable('computed_at') AS computed_at
FROM checked
