-- The anchor of benchmarks/kpi_compute.py: the record-level KPIs written the direct way, one
-- query per KPI over the core tables, with the same grains, dimensions, periods (local day in
-- getvariable('timezone'), weeks from Monday) and as_of cut-off as kpi.metric_values, but with no
-- stored facts, evidence, period grid, minimum n or quarantine. Each row is a value of
-- kpi.metric_values for the same key (where ours is not NULL for too little data).

CREATE OR REPLACE TEMP MACRO ref_day(ts) AS CAST(ts AT TIME ZONE getvariable('timezone') AS DATE);

-- A day's period at each grain, so that one GROUP BY over (grain, period_start, ...) covers all three.
CREATE OR REPLACE TEMP MACRO ref_periods(day) AS [
    {'grain': 'week', 'period_start': date_trunc('week', day)::DATE},
    {'grain': 'month', 'period_start': date_trunc('month', day)::DATE},
    {'grain': 'quarter', 'period_start': date_trunc('quarter', day)::DATE}
];

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
    (epoch(actual_end) - epoch(opened_at)) / 3600.0 AS lead_hours
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

-- Per week of the period that had elapsed by as_of.
INSERT INTO reference_values
SELECT
    'deployment_frequency', grain, period_start,
    CASE WHEN GROUPING(service) = 0 THEN 'service' WHEN GROUPING(assignment_group) = 0
        THEN 'assignment_group' WHEN GROUPING(source) = 0 THEN 'source' ELSE 'all' END,
    coalesce(service, assignment_group, source, 'all'),
    count(*) / ((epoch(least(
        period_start + CASE grain WHEN 'week' THEN INTERVAL 7 DAY WHEN 'month' THEN INTERVAL 1 MONTH
            ELSE INTERVAL 3 MONTH END,
        getvariable('as_of_local'))) - epoch(period_start::TIMESTAMP)) / (7 * 86400.0))
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
    100.0 * sum(cost) FILTER (WHERE allocated) / sum(cost)
FROM ref_costs
WHERE NOT credit
GROUP BY GROUPING SETS ((grain, period_start), (grain, period_start, provider),
    (grain, period_start, service_category), (grain, period_start, source));
