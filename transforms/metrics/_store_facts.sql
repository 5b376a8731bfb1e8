-- Place each fact of one metric SQL file in its period at every grain, in the scorecard's time
-- zone and week, and keep contributions only where the record's role says it counts.
WITH facts_with_day AS (
    SELECT
        *,
        coalesce(local_day, CAST(completed_at AT TIME ZONE getvariable('timezone') AS DATE)) AS day,
        coalesce(in_numerator, false) AS counts_as_numerator,
        coalesce(in_denominator, false) AS counts_as_denominator
    FROM metric_facts_source
),
-- A fact with a day, up to as_of. Written on the columns rather than on `day`, whose time-zone
-- conversion would otherwise run once more per condition: a completed_at up to as_of is on a
-- local day up to as_of's.
facts_up_to_as_of AS (
    SELECT *
    FROM facts_with_day
    WHERE (local_day IS NOT NULL OR completed_at IS NOT NULL)
        AND (local_day IS NULL OR local_day <= getvariable('as_of_day'))
        AND (completed_at IS NULL OR completed_at <= getvariable('as_of'))
),
-- A service or group under the spelling it is counted in (kpi.name_spellings: letter case aside).
facts_spelled AS (
    SELECT
        facts.* REPLACE (
            coalesce(services.spelling, facts.service) AS service,
            coalesce(groups.spelling, facts.assignment_group) AS assignment_group
        )
    FROM facts_up_to_as_of AS facts
    LEFT JOIN kpi.name_spellings AS services
        ON services.kind = 'service' AND services.name = facts.service
    LEFT JOIN kpi.name_spellings AS groups
        ON groups.kind = 'group' AND groups.name = facts.assignment_group
)
SELECT
    getvariable('facts_id') AS facts_id,
    record_table,
    record_id,
    completed_at,
    day AS local_day,
    kpi.fitting_period('week', day, span_last, fill_bucket, getvariable('week_offset')) AS week_period,
    kpi.fitting_period('month', day, span_last, fill_bucket, 0) AS month_period,
    kpi.fitting_period('quarter', day, span_last, fill_bucket, 0) AS quarter_period,
    kpi.span_weight('week', day, span_last, weight_by_span, getvariable('week_offset')) AS week_weight,
    kpi.span_weight('month', day, span_last, weight_by_span, 0) AS month_weight,
    kpi.span_weight('quarter', day, span_last, weight_by_span, 0) AS quarter_weight,
    CASE WHEN span_last IS NOT NULL THEN span_last - day + 1 END AS covered_days,
    coalesce(service, '(unknown)') AS service,
    coalesce(assignment_group, '(unknown)') AS assignment_group,
    coalesce(priority, '(unknown)') AS priority,
    coalesce(source, '(unknown)') AS source,
    coalesce(provider, '(unknown)') AS provider,
    coalesce(service_category, '(unknown)') AS service_category,
    coalesce(initiative, '(unknown)') AS initiative,
    CASE WHEN counts_as_numerator THEN num END AS num,
    CASE WHEN counts_as_denominator THEN den END AS den,
    CASE WHEN counts_as_denominator THEN x END AS x,
    counts_as_numerator AS in_numerator,
    counts_as_denominator AS in_denominator,
    coalesce(counts_in_n, counts_as_denominator) AS counts_in_n,
    coalesce(record_count, 1) AS record_count,
    note
FROM facts_spelled
