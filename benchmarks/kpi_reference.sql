-- The anchor of benchmarks/kpi_compute.py: our KPIs (all but project_roi, which has no inputs in
-- the benchmark's data) written the direct way, one query per KPI over the core tables, with the
-- same grains, dimensions, periods (local day in getvariable('timezone'), weeks from Monday) and
-- as_of cut-off as kpi.metric_values, but with no stored facts, evidence, period grid, minimum n,
-- quarantine or name spellings, and manual inputs read as the benchmark enters them (one per
-- whole month). Each row is a value of kpi.metric_values for the same key (where ours is not NULL
-- for too little data, or for a period its inputs do not cover).

CREATE OR REPLACE TEMP MACRO ref_day(ts) AS CAST(ts AT TIME ZONE getvariable('timezone') AS DATE);

-- A day's period at each grain, so that one GROUP BY over (grain, period_start, ...) covers all three.
CREATE OR REPLACE TEMP MACRO ref_periods(day) AS [
    {'grain': 'week', 'period_start': date_trunc('week', day)::DATE},
    {'grain': 'month', 'period_start': date_trunc('month', day)::DATE},
    {'grain': 'quarter', 'period_start': date_trunc('quarter', day)::DATE}
];

-- The weeks of a period that had elapsed by as_of (the running period counts only that far).
CREATE OR REPLACE TEMP MACRO ref_elapsed_weeks(grain, period_start) AS
    (epoch(least(
        period_start + CASE grain WHEN 'week' THEN INTERVAL 7 DAY WHEN 'month' THEN INTERVAL 1 MONTH
            ELSE INTERVAL 3 MONTH END,
        getvariable('as_of_local'))) - epoch(period_start::TIMESTAMP)) / (7 * 86400.0);

CREATE OR REPLACE TEMP TABLE reference_values (
    metric_id VARCHAR, grain VARCHAR, period_start DATE, dimension VARCHAR,
    dimension_value VARCHAR, value DOUBLE
);

-- Resolved incidents (state resolved or closed, not before opened) with their hours to resolve.
CREATE OR REPLACE TEMP VIEW ref_resolved_incidents AS
SELECT
    unnest(ref_periods(ref_day(resolved_at)), recursive := true),
    coalesce(service, '(unknown)') AS service,
    coalesce(assignment_group, '(unknown)') AS assignment_group,
    coalesce(CAST(priority AS VARCHAR), '(unknown)') AS priority,
    source,
    priority AS priority_level,
    caused_by_change_id,
    is_security OR lower(category) IN ('security', 'security incident') AS security,
    reopen_count,
    reassignment_count,
    (epoch(resolved_at) - epoch(opened_at)) / 3600.0 AS hours
FROM core.incidents
WHERE lower(state) IN ('resolved', 'closed')
    AND resolved_at IS NOT NULL AND opened_at IS NOT NULL AND resolved_at >= opened_at
    AND resolved_at <= getvariable('as_of') AND ref_day(resolved_at) <= getvariable('as_of_day');

INSERT INTO reference_values
SELECT
    'incident_resolution_time', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(priority) = 0 THEN 'priority'
        WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, priority, source, 'all'),
    median(hours)
FROM ref_resolved_incidents
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, assignment_group), (grain, period_start, priority),
    (grain, period_start, source));

INSERT INTO reference_values
SELECT
    'incident_resolution_time_p90', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(priority) = 0 THEN 'priority'
        WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, priority, source, 'all'),
    quantile_cont(hours, 0.9)
FROM ref_resolved_incidents
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, assignment_group), (grain, period_start, priority),
    (grain, period_start, source));

INSERT INTO reference_values
SELECT
    'mean_time_to_restore', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(priority) = 0 THEN 'priority'
        WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, priority, source, 'all'),
    median(hours)
FROM ref_resolved_incidents
WHERE priority_level IN (1, 2) OR caused_by_change_id IS NOT NULL
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, assignment_group), (grain, period_start, priority),
    (grain, period_start, source));

INSERT INTO reference_values
SELECT
    'mean_time_to_restore_p90', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(priority) = 0 THEN 'priority'
        WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, priority, source, 'all'),
    quantile_cont(hours, 0.9)
FROM ref_resolved_incidents
WHERE priority_level IN (1, 2) OR caused_by_change_id IS NOT NULL
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, assignment_group), (grain, period_start, priority),
    (grain, period_start, source));

INSERT INTO reference_values
SELECT
    'security_incident_resolution_time', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(priority) = 0 THEN 'priority'
        WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, priority, source, 'all'),
    median(hours)
FROM ref_resolved_incidents
WHERE security
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, assignment_group), (grain, period_start, priority),
    (grain, period_start, source));

-- Reopen rate and first contact resolution count every resolved incident, whatever its times,
-- whose reopen or reassignment count is known.
CREATE OR REPLACE TEMP VIEW ref_incidents_resolved_in_period AS
SELECT
    unnest(ref_periods(ref_day(resolved_at)), recursive := true),
    coalesce(service, '(unknown)') AS service,
    coalesce(assignment_group, '(unknown)') AS assignment_group,
    coalesce(CAST(priority AS VARCHAR), '(unknown)') AS priority,
    source,
    reopen_count,
    reassignment_count
FROM core.incidents
WHERE lower(state) IN ('resolved', 'closed') AND resolved_at IS NOT NULL
    AND resolved_at <= getvariable('as_of') AND ref_day(resolved_at) <= getvariable('as_of_day');

INSERT INTO reference_values
SELECT
    'reopen_rate', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(priority) = 0 THEN 'priority'
        WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, priority, source, 'all'),
    100.0 * count(*) FILTER (WHERE reopen_count > 0) / count(reopen_count)
FROM ref_incidents_resolved_in_period
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, assignment_group), (grain, period_start, priority),
    (grain, period_start, source));

INSERT INTO reference_values
SELECT
    'first_contact_resolution', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(priority) = 0 THEN 'priority'
        WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, priority, source, 'all'),
    100.0 * count(*) FILTER (WHERE reassignment_count = 0) / count(reassignment_count)
FROM ref_incidents_resolved_in_period
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, assignment_group), (grain, period_start, priority),
    (grain, period_start, source));

-- SLA attainment: stopped SLA clocks whose outcome is known; incidents of sources without SLA
-- clocks by their made_sla.
INSERT INTO reference_values
WITH outcomes AS (
    SELECT end_time AS completed_at, service, CAST(priority AS VARCHAR) AS priority, source,
        NOT coalesce(breached, lower(stage) = 'breached') AS met
    FROM core.sla_records
    WHERE end_time IS NOT NULL AND lower(stage) IN ('completed', 'achieved', 'breached')
        AND (breached IS NOT NULL OR lower(stage) = 'breached')
    UNION ALL
    SELECT coalesce(resolved_at, closed_at), service, CAST(priority AS VARCHAR), source, made_sla
    FROM core.incidents
    WHERE source NOT IN (SELECT source FROM core.sla_records)
        AND lower(state) IN ('resolved', 'closed') AND made_sla IS NOT NULL
),
placed AS (
    SELECT
        unnest(ref_periods(ref_day(completed_at)), recursive := true),
        coalesce(service, '(unknown)') AS service,
        coalesce(priority, '(unknown)') AS priority,
        source,
        met
    FROM outcomes
    WHERE completed_at <= getvariable('as_of') AND ref_day(completed_at) <= getvariable('as_of_day')
)
SELECT
    'sla_attainment', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(priority) = 0 THEN 'priority'
        WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, priority, source, 'all'),
    100.0 * count(*) FILTER (WHERE met) / count(*)
FROM placed
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, priority), (grain, period_start, source));

INSERT INTO reference_values
WITH tickets AS (
    SELECT opened_at, channel, service, source FROM core.incidents
    UNION ALL
    SELECT opened_at, channel, service, source FROM core.requests
),
placed AS (
    SELECT
        unnest(ref_periods(ref_day(opened_at)), recursive := true),
        coalesce(service, '(unknown)') AS service,
        source,
        lower(channel) IN ('portal', 'self-service', 'self_service', 'chat', 'virtual agent',
            'virtual_agent', 'web', 'slack', 'catalog') AS self_service
    FROM tickets
    WHERE channel IS NOT NULL
        AND opened_at <= getvariable('as_of') AND ref_day(opened_at) <= getvariable('as_of_day')
)
SELECT
    'self_service_adoption', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(source) = 0 THEN 'source'
        ELSE 'all' END,
    coalesce(service, source, 'all'),
    100.0 * count(*) FILTER (WHERE self_service) / count(*)
FROM placed
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, source));

CREATE OR REPLACE TEMP VIEW ref_fulfilled_requests AS
SELECT
    unnest(ref_periods(ref_day(fulfilled_at)), recursive := true),
    coalesce(service, '(unknown)') AS service,
    coalesce(assignment_group, '(unknown)') AS assignment_group,
    source,
    (epoch(fulfilled_at) - epoch(opened_at)) / 3600.0 AS hours
FROM core.requests
WHERE lower(state) NOT IN ('canceled', 'cancelled') AND fulfilled_at >= opened_at
    AND fulfilled_at <= getvariable('as_of') AND ref_day(fulfilled_at) <= getvariable('as_of_day');

INSERT INTO reference_values
SELECT
    unnest(['request_fulfillment_time', 'request_fulfillment_time_p90']), grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, source, 'all'),
    unnest(quantile_cont(hours, [0.5, 0.9]))
FROM ref_fulfilled_requests
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, assignment_group), (grain, period_start, source));

-- Deployments: completed production changes, not cancelled, at their actual end (else closing).
CREATE OR REPLACE TEMP VIEW ref_deployments AS
SELECT
    unnest(ref_periods(ref_day(coalesce(actual_end, closed_at))), recursive := true),
    coalesce(service, '(unknown)') AS service,
    coalesce(assignment_group, '(unknown)') AS assignment_group,
    source,
    change_id,
    lower(outcome) = 'unsuccessful' OR coalesce(backed_out, false)
        OR change_id IN (
            SELECT caused_by_change_id FROM core.incidents
            WHERE lower(state) NOT IN ('canceled', 'cancelled')
                AND opened_at <= getvariable('as_of')
        ) AS failed,
    (epoch(actual_end) - epoch(opened_at)) / 3600.0 AS lead_hours,
    ref_day(coalesce(actual_end, closed_at)) AS local_day
FROM core.changes
WHERE is_production IS DISTINCT FROM false AND lower(state) NOT IN ('canceled', 'cancelled')
    AND coalesce(actual_end, closed_at) <= getvariable('as_of')
    AND ref_day(coalesce(actual_end, closed_at)) <= getvariable('as_of_day');

INSERT INTO reference_values
SELECT
    'change_failure_rate', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, source, 'all'),
    100.0 * count(*) FILTER (WHERE failed) / count(*)
FROM ref_deployments
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, assignment_group), (grain, period_start, source));

-- Deployments, and distinct local days with one, per week of the period that had elapsed by as_of.
INSERT INTO reference_values
SELECT
    unnest(['deployment_frequency', 'deployment_days_per_week']), grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, source, 'all'),
    unnest([count(*), count(DISTINCT local_day)]) / ref_elapsed_weeks(grain, period_start)
FROM ref_deployments
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, assignment_group), (grain, period_start, source));

INSERT INTO reference_values
SELECT
    unnest(['change_lead_time', 'change_lead_time_p90']), grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, source, 'all'),
    unnest(quantile_cont(lead_hours, [0.5, 0.9]))
FROM ref_deployments
WHERE lead_hours >= 0
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, assignment_group), (grain, period_start, source));

-- Cost rows in the local day of their charge start, EffectiveCost, credits netted in.
CREATE OR REPLACE TEMP VIEW ref_costs AS
SELECT
    unnest(ref_periods(ref_day(ChargePeriodStart)), recursive := true),
    coalesce(ProviderName, '(unknown)') AS provider,
    coalesce(service, '(unknown)') AS service,
    coalesce(ServiceCategory, '(unknown)') AS service_category,
    source,
    CAST(EffectiveCost AS DOUBLE) AS cost,
    ChargeCategory ILIKE 'credit' OR EffectiveCost < 0 AS credit,
    nullif(trim(cost_centre), '') IS NOT NULL OR nullif(trim(service), '') IS NOT NULL
        OR nullif(trim(application), '') IS NOT NULL
        OR coalesce(list_has_any(list_transform(json_keys(Tags), lambda k: lower(k)),
            ['cost_centre', 'cost-center', 'costcenter', 'service', 'application', 'owner']), false)
        AS allocated
FROM core.costs
WHERE ChargePeriodStart <= getvariable('as_of')
    AND ref_day(ChargePeriodStart) <= getvariable('as_of_day');

INSERT INTO reference_values
SELECT
    'cloud_spend', grain, period_start,
    CASE WHEN GROUPING(provider) = 0 THEN 'provider' WHEN GROUPING(service) = 0 THEN 'service'
        WHEN GROUPING(service_category) = 0 THEN 'service_category'
        WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(provider, service, service_category, source, 'all'),
    sum(cost)
FROM ref_costs
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, provider),
    (grain, period_start, service), (grain, period_start, service_category),
    (grain, period_start, source));

INSERT INTO reference_values
SELECT
    'cost_allocation_coverage', grain, period_start,
    CASE WHEN GROUPING(provider) = 0 THEN 'provider'
        WHEN GROUPING(service_category) = 0 THEN 'service_category'
        WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(provider, service_category, source, 'all'),
    -- (a sum over no allocated cost is NULL in SQL, where the share is 0)
    100.0 * coalesce(sum(cost) FILTER (WHERE allocated), 0) / sum(cost)
FROM ref_costs
WHERE NOT credit
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, provider),
    (grain, period_start, service_category), (grain, period_start, source));

-- Tickets handled (incidents resolved or closed, requests not cancelled) at their completion,
-- under the service-desk cost inputs of the same month, or of all three months of the quarter.
INSERT INTO reference_values
WITH handled AS (
    SELECT coalesce(resolved_at, closed_at) AS handled_at
    FROM core.incidents
    WHERE lower(state) IN ('resolved', 'closed')
    UNION ALL
    SELECT coalesce(fulfilled_at, closed_at)
    FROM core.requests
    WHERE coalesce(lower(state) NOT IN ('canceled', 'cancelled', 'closed_cancelled'), true)
),
tickets AS (
    SELECT grain, period_start, count(*) AS tickets
    FROM (
        SELECT unnest(ref_periods(ref_day(handled_at)), recursive := true)
        FROM handled
        WHERE handled_at <= getvariable('as_of') AND ref_day(handled_at) <= getvariable('as_of_day')
    )
    GROUP BY ALL
),
costs AS (
    SELECT grain, period_start, sum(value) AS cost, count(*) AS months
    FROM (
        SELECT unnest(ref_periods(period_start), recursive := true), value
        FROM core.measures
        WHERE metric_id = 'service_desk_cost' AND dimension = 'all'
    )
    WHERE grain <> 'week'
    GROUP BY ALL
)
SELECT
    'cost_per_ticket', grain, period_start, 'all', 'all', cost / tickets
FROM costs
JOIN tickets USING (grain, period_start)
WHERE months = CASE grain WHEN 'month' THEN 1 ELSE 3 END;

-- Monthly manual inputs summed per month and quarter (a month's input fits no week), stocks
-- weighted by the days they hold, with how many months each input has in the period.
-- Remediation days and their count describe the same vulnerabilities: each counts only beside
-- the other of the same month.
CREATE OR REPLACE TEMP TABLE ref_inputs AS
WITH inputs AS (
    SELECT
        *,
        count(*) FILTER (
            WHERE metric_id IN ('critical_vuln_remediation_days', 'critical_vulns_remediated')
        ) OVER (PARTITION BY period_start) = 2 AS vuln_paired
    FROM core.measures
    WHERE dimension = 'all'
),
placed AS (
    SELECT
        unnest(ref_periods(period_start), recursive := true),
        metric_id,
        value,
        day(last_day(period_start)) AS days,
        vuln_paired
    FROM inputs
)
SELECT
    grain,
    period_start,
    CASE grain WHEN 'month' THEN 1 ELSE 3 END AS whole,
    CAST(period_start + CASE grain WHEN 'month' THEN INTERVAL 1 MONTH ELSE INTERVAL 3 MONTH END
        AS DATE) - period_start AS period_days,
    sum(value) FILTER (WHERE metric_id = 'revenue') AS revenue,
    count(*) FILTER (WHERE metric_id = 'revenue') AS revenue_months,
    sum(value) FILTER (WHERE metric_id = 'it_spend') AS it_spend,
    count(*) FILTER (WHERE metric_id = 'it_spend') AS it_spend_months,
    sum(value * days) FILTER (WHERE metric_id = 'headcount_fte') AS headcount_days,
    count(*) FILTER (WHERE metric_id = 'headcount_fte') AS headcount_months,
    sum(value) FILTER (WHERE metric_id = 'training_hours') AS training_hours,
    count(*) FILTER (WHERE metric_id = 'training_hours') AS training_months,
    sum(value) FILTER (WHERE metric_id = 'certifications') AS certifications,
    count(*) FILTER (WHERE metric_id = 'certifications') AS certification_months,
    sum(value * days) FILTER (WHERE metric_id = 'automation_coverage') AS coverage_days,
    sum(days) FILTER (WHERE metric_id = 'automation_coverage') AS covered_days,
    sum(value) FILTER (WHERE metric_id = 'staff_start') AS staff_start,
    sum(value) FILTER (WHERE metric_id = 'staff_retained') AS staff_retained,
    sum(value) FILTER (WHERE metric_id = 'critical_vuln_remediation_days' AND vuln_paired)
        AS vuln_days,
    sum(value) FILTER (WHERE metric_id = 'critical_vulns_remediated' AND vuln_paired) AS vulns
FROM placed
WHERE grain <> 'week'
GROUP BY ALL;

INSERT INTO reference_values
SELECT
    unnest(['it_spend_pct_revenue', 'training_hours_per_fte', 'certifications',
        'automation_coverage', 'retention_rate', 'critical_vulnerability_remediation_time']),
    grain, period_start, 'all', 'all',
    unnest([
        CASE WHEN it_spend_months = whole AND revenue_months = whole
            THEN 100.0 * it_spend / revenue END,
        -- Training hours over the average headcount: a quarter's hours over its months' average.
        CASE WHEN training_months = whole AND headcount_months = whole
            THEN training_hours / (headcount_days / period_days) END,
        CASE WHEN certification_months = whole THEN certifications END,
        coverage_days / covered_days,
        -- A cohort counts only at the grain it spans: monthly inputs give monthly values.
        CASE WHEN grain = 'month' THEN 100.0 * staff_retained / staff_start END,
        vuln_days / vulns
    ])
FROM ref_inputs;

-- Survey answers on their scale, on the day they were given (a date-only answer on its date).
CREATE OR REPLACE TEMP VIEW ref_survey_answers AS
SELECT
    unnest(ref_periods(coalesce(answered_on, ref_day(responded_at))), recursive := true),
    lower(survey) AS survey,
    coalesce(service, '(unknown)') AS service,
    source,
    score,
    scale_max
FROM core.survey_responses
WHERE score BETWEEN 0 AND scale_max
    AND responded_at <= getvariable('as_of')
    AND coalesce(answered_on, ref_day(responded_at)) <= getvariable('as_of_day');

-- CSAT: answers in the top two points of their own scale (a scale narrower than that left out).
INSERT INTO reference_values
SELECT
    'csat', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(source) = 0 THEN 'source'
        ELSE 'all' END,
    coalesce(service, source, 'all'),
    100.0 * count(*) FILTER (WHERE score >= scale_max - 1) / count(*)
FROM ref_survey_answers
WHERE survey = 'csat' AND scale_max >= 2
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service),
    (grain, period_start, source));

INSERT INTO reference_values
SELECT
    'employee_engagement', grain, period_start, 'all', 'all', avg(score / scale_max * 100)
FROM ref_survey_answers
WHERE survey = 'engagement' AND scale_max > 0
GROUP BY ALL;

-- Availability of the services with outage records, per local day from each one's first record
-- (outage or incident) to as_of: agreed minutes (a DST day has 23 or 25 hours, as_of's day only
-- runs to as_of) less planned maintenance and unplanned downtime.
CREATE OR REPLACE TEMP TABLE ref_service_days AS
WITH first_records AS (
    SELECT service, min(seen_at) AS first_at
    FROM (
        SELECT service, begin_at AS seen_at FROM core.outages
        UNION ALL
        SELECT service, opened_at FROM core.incidents
    )
    WHERE service IN (SELECT service FROM core.outages) AND seen_at IS NOT NULL
    GROUP BY service
),
days AS (
    SELECT
        service,
        CAST(unnest(generate_series(
            ref_day(first_at), getvariable('as_of_day'), INTERVAL 1 DAY
        )) AS DATE) AS local_day
    FROM first_records
)
SELECT
    service,
    local_day,
    local_day::TIMESTAMP AT TIME ZONE getvariable('timezone') AS day_begin,
    least((local_day + 1)::TIMESTAMP AT TIME ZONE getvariable('timezone'), getvariable('as_of'))
        AS day_end
FROM days;

-- Outage minutes per local day: each kind's overlapping records once (from the end of the
-- latest earlier one), unplanned time within planned maintenance counted as planned.
CREATE OR REPLACE TEMP TABLE ref_outage_minutes AS
WITH classified AS (
    SELECT
        outage_id,
        service,
        begin_at,
        least(coalesce(end_at, getvariable('as_of')), getvariable('as_of')) AS end_at,
        CASE lower(type) WHEN 'planned' THEN 'planned' WHEN 'outage' THEN 'unplanned' END AS kind
    FROM core.outages
    WHERE service IS NOT NULL AND begin_at IS NOT NULL
),
counted AS (
    SELECT *
    FROM (
        SELECT
            *,
            greatest(begin_at, coalesce(max(end_at) OVER (
                PARTITION BY service, kind ORDER BY begin_at, outage_id
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ), begin_at)) AS counted_from
        FROM classified
        WHERE kind IS NOT NULL
    )
    WHERE counted_from < end_at
),
pieces AS (
    SELECT
        o.outage_id,
        o.service,
        o.kind,
        d.local_day,
        greatest(o.counted_from, d.day_begin) AS piece_begin,
        least(o.end_at, d.day_end) AS piece_end
    FROM counted AS o
    JOIN ref_service_days AS d
        ON d.service = o.service AND o.counted_from < d.day_end AND o.end_at > d.day_begin
)
SELECT
    p.service,
    p.local_day,
    p.kind,
    -- (least and greatest pass over NULL: only the matched maintenance is subtracted.)
    (epoch(p.piece_end) - epoch(p.piece_begin) - coalesce(sum(
        epoch(least(p.piece_end, planned.end_at))
        - epoch(greatest(p.piece_begin, planned.counted_from))
    ) FILTER (WHERE planned.outage_id IS NOT NULL), 0)) / 60.0 AS minutes
FROM pieces AS p
LEFT JOIN counted AS planned
    ON p.kind = 'unplanned' AND planned.kind = 'planned' AND planned.service = p.service
    AND planned.counted_from < p.piece_end AND planned.end_at > p.piece_begin
GROUP BY p.outage_id, p.service, p.local_day, p.kind, p.piece_begin, p.piece_end;

INSERT INTO reference_values
WITH minutes AS (
    SELECT service, local_day, (epoch(day_end) - epoch(day_begin)) / 60.0 AS agreed,
        0.0 AS planned, 0.0 AS unplanned
    FROM ref_service_days
    UNION ALL
    SELECT service, local_day, 0.0, CASE kind WHEN 'planned' THEN minutes ELSE 0 END,
        CASE kind WHEN 'unplanned' THEN minutes ELSE 0 END
    FROM ref_outage_minutes
    WHERE minutes > 0
),
placed AS (
    SELECT unnest(ref_periods(local_day), recursive := true), service, agreed, planned, unplanned
    FROM minutes
)
SELECT
    'service_availability', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' ELSE 'all' END,
    coalesce(service, 'all'),
    100.0 * (sum(agreed) - sum(planned) - sum(unplanned)) / (sum(agreed) - sum(planned))
FROM placed
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, service));

-- The lowest availability of any committed service in each period.
INSERT INTO reference_values
SELECT
    'service_availability_worst', grain, period_start, 'all', 'all', min(value)
FROM reference_values
WHERE metric_id = 'service_availability' AND dimension = 'service'
GROUP BY ALL;
