-- KPI audit trail: the records behind every kpi.metric_values row, stored once per metric and record
-- (not once per grain and dimension) and expanded to periods on demand by kpi.metric_evidence.
-- Cost rows are the exception: tens of millions of line items are stored as one fact per local day
-- and cost dimensions (a "cost group", with its record_count); kpi.cost_evidence expands a group to
-- its core.costs rows on demand.

-- The first day of the period that contains `day`; week_offset is 0 for Monday .. 6 for Sunday.
CREATE MACRO kpi.period_of(grain, day, week_offset) AS
    CASE grain
        WHEN 'week' THEN (day - to_days(CAST((isodow(day) - 1 - week_offset + 7) % 7 AS INTEGER)))::DATE
        WHEN 'month' THEN date_trunc('month', day)::DATE
        WHEN 'quarter' THEN date_trunc('quarter', day)::DATE
    END;

-- The first day after the period that starts on period_start.
CREATE MACRO kpi.period_after(grain, period_start) AS
    CASE grain
        WHEN 'week' THEN (period_start + INTERVAL 7 DAY)::DATE
        WHEN 'month' THEN (period_start + INTERVAL 1 MONTH)::DATE
        WHEN 'quarter' THEN (period_start + INTERVAL 3 MONTH)::DATE
    END;

-- The settings of the run that produced kpi.metric_values (one row, replaced with the values).
CREATE TABLE kpi.metric_runs (
    computed_at  TIMESTAMPTZ NOT NULL,
    as_of        TIMESTAMPTZ NOT NULL,
    timezone     VARCHAR NOT NULL,
    week_start   VARCHAR NOT NULL,
    metrics      INTEGER NOT NULL,
    value_rows   BIGINT NOT NULL,
    seconds      DOUBLE
);

-- The effective definition of each computed metric (catalogue entry plus scorecard.yaml overrides).
CREATE TABLE kpi.metric_definitions (
    metric_id    VARCHAR PRIMARY KEY,
    facts_id     VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    perspective  VARCHAR,
    unit         VARCHAR,
    direction    VARCHAR,
    statistic    VARCHAR NOT NULL,
    scale        DOUBLE NOT NULL,
    min_n        INTEGER NOT NULL,
    dimensions   VARCHAR[] NOT NULL,
    params       JSON
);

-- One row per record a metric considered: its completion day in the scorecard time zone, the
-- period it falls in at each grain (NULL where a manual input does not fit that grain), its
-- dimensions, its contribution (num, den, x) and its role. Excluded records stay, with a note.
CREATE TABLE kpi.metric_facts (
    facts_id          VARCHAR NOT NULL,
    record_table      VARCHAR NOT NULL,
    record_id         VARCHAR NOT NULL,
    completed_at      TIMESTAMPTZ,
    local_day         DATE,
    week_period       DATE,
    month_period      DATE,
    quarter_period    DATE,
    week_weight       DOUBLE,
    month_weight      DOUBLE,
    quarter_weight    DOUBLE,
    service           VARCHAR,
    assignment_group  VARCHAR,
    priority          VARCHAR,
    source            VARCHAR,
    provider          VARCHAR,
    service_category  VARCHAR,
    initiative        VARCHAR,
    num               DOUBLE,
    den               DOUBLE,
    x                 DOUBLE,
    in_numerator      BOOLEAN NOT NULL,
    in_denominator    BOOLEAN NOT NULL,
    counts_in_n       BOOLEAN NOT NULL,
    record_count      BIGINT NOT NULL,
    note              VARCHAR
);

-- For any KPI value: which records made its numerator and denominator (and which were excluded, and why).
CREATE VIEW kpi.metric_evidence AS
WITH facts_by_grain AS (
    SELECT
        f.*,
        grains.grain,
        CASE grains.grain
            WHEN 'week' THEN f.week_period
            WHEN 'month' THEN f.month_period
            ELSE f.quarter_period
        END AS fact_period,
        CASE grains.grain
            WHEN 'week' THEN f.week_weight
            WHEN 'month' THEN f.month_weight
            ELSE f.quarter_weight
        END AS weight
    FROM kpi.metric_facts AS f
    CROSS JOIN (VALUES ('week'), ('month'), ('quarter')) AS grains (grain)
),
facts_by_dimension AS (
    SELECT
        fg.*,
        dims.dimension,
        CASE dims.dimension
            WHEN 'all' THEN 'all'
            WHEN 'service' THEN fg.service
            WHEN 'assignment_group' THEN fg.assignment_group
            WHEN 'priority' THEN fg.priority
            WHEN 'source' THEN fg.source
            WHEN 'provider' THEN fg.provider
            WHEN 'service_category' THEN fg.service_category
            WHEN 'initiative' THEN fg.initiative
        END AS dimension_value
    FROM facts_by_grain AS fg
    CROSS JOIN (
        VALUES ('all'), ('service'), ('assignment_group'), ('priority'), ('source'), ('provider'),
            ('service_category'), ('initiative')
    ) AS dims (dimension)
    WHERE fg.fact_period IS NOT NULL
),
matching_facts AS (
    SELECT v.metric_id, v.grain, v.period_start, v.dimension, v.dimension_value, fd.*
        EXCLUDE (grain, dimension, dimension_value)
    FROM kpi.metric_values AS v
    JOIN kpi.metric_definitions AS d ON d.metric_id = v.metric_id
    JOIN facts_by_dimension AS fd
        ON fd.facts_id = d.facts_id
        AND fd.grain = v.grain
        AND fd.dimension = v.dimension
        AND fd.dimension_value = v.dimension_value
        AND (
            fd.fact_period = v.period_start
            OR (d.statistic = 'cumulative_ratio' AND fd.fact_period < v.period_start)
        )
)
SELECT
    metric_id,
    grain,
    period_start,
    dimension,
    dimension_value,
    unnest(list_filter(
        [
            CASE WHEN in_numerator THEN 'numerator' END,
            CASE WHEN in_denominator THEN 'denominator' END,
            CASE WHEN NOT in_numerator AND NOT in_denominator THEN 'excluded' END
        ],
        lambda role: role IS NOT NULL
    )) AS role,
    record_table,
    record_id,
    completed_at,
    local_day,
    num * weight AS numerator_contribution,
    den * weight AS denominator_contribution,
    x AS sample_value,
    record_count,
    note
FROM matching_facts;

-- Incidents that reached an end (resolved, or closed without a resolution time): the population
-- the incident KPIs start from, with the duration each of them would contribute.
CREATE VIEW kpi.completed_incidents AS
SELECT
    incident_id,
    source,
    number,
    opened_at,
    resolved_at,
    closed_at,
    coalesce(resolved_at, closed_at) AS completed_at,
    lower(state) AS state,
    priority,
    CAST(priority AS VARCHAR) AS priority_label,
    service,
    assignment_group,
    category,
    reopen_count,
    reassignment_count,
    made_sla,
    caused_by_change_id,
    is_security,
    epoch(resolved_at - opened_at) / 3600.0 AS resolution_hours
FROM core.incidents
WHERE coalesce(resolved_at, closed_at) IS NOT NULL;

-- Manual inputs with their span normalised to [first day, last day] (see transforms/metrics/inputs.yaml).
CREATE VIEW kpi.measure_inputs AS
SELECT
    metric_id,
    metric_id || ':' || strftime(period_start, '%Y-%m-%d') || ':' || dimension || ':' || dimension_value
        AS record_id,
    period_start AS first_day,
    CASE
        WHEN period_end IS NULL THEN (period_start + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE
        WHEN period_end > period_start AND day(period_end) = 1 AND day(period_start) = 1
            THEN (period_end - INTERVAL 1 DAY)::DATE
        ELSE period_end
    END AS last_day,
    value,
    dimension,
    dimension_value,
    source
FROM core.measures;

-- The period of `grain` a record of day `day` belongs to, or NULL when a manual input spanning
-- [day, span_last] does not fit inside one period (or, with fill, does not span exactly one period).
CREATE MACRO kpi.fitting_period(grain, day, span_last, fill, week_offset) AS
    CASE
        WHEN span_last IS NULL THEN kpi.period_of(grain, day, week_offset)
        WHEN kpi.period_of(grain, span_last, week_offset) <> kpi.period_of(grain, day, week_offset)
            THEN NULL
        WHEN coalesce(fill, false)
            AND (kpi.period_of(grain, day, week_offset) <> day
                OR kpi.period_after(grain, day) <> span_last + 1)
            THEN NULL
        ELSE kpi.period_of(grain, day, week_offset)
    END;

-- The share of the period a stock input covers (1 for everything else), for time-weighted averages.
CREATE MACRO kpi.span_weight(grain, day, span_last, by_span, week_offset) AS
    CASE
        WHEN coalesce(by_span, false) AND span_last IS NOT NULL
            THEN (span_last - day + 1) / (
                kpi.period_after(grain, kpi.period_of(grain, day, week_offset))
                - kpi.period_of(grain, day, week_offset)
            )::DOUBLE
        ELSE 1.0
    END;

-- Whether a cost row has an owner: an allocation column, or one of the owner tag keys (lower case).
CREATE MACRO kpi.cost_is_allocated(cost_centre, service, application, tags, owner_tag_keys) AS
    nullif(trim(cost_centre), '') IS NOT NULL
    OR nullif(trim(service), '') IS NOT NULL
    OR nullif(trim(application), '') IS NOT NULL
    OR coalesce(list_has_any(
        list_transform(json_keys(tags), lambda tag_key: lower(tag_key)), owner_tag_keys
    ), false);

-- The cost group a cost row is counted in: its local day and cost dimensions.
CREATE MACRO kpi.cost_group(local_day, provider, service_category, service, source, charge_category) AS
    concat_ws(
        '|',
        strftime(local_day, '%Y-%m-%d'),
        coalesce(provider, '(unknown)'),
        coalesce(service_category, '(unknown)'),
        coalesce(service, '(unknown)'),
        source,
        CASE WHEN charge_category ILIKE 'credit' THEN 'credit' ELSE 'charge' END
    );

-- The individual cost rows behind a cost metric's value, computed on demand from core.costs with
-- the time zone and allocation rule of the last run.
CREATE VIEW kpi.cost_evidence AS
WITH last_run AS (
    SELECT
        r.timezone,
        coalesce(
            (SELECT CAST(d.params->'owner_tag_keys' AS VARCHAR[]) FROM kpi.metric_definitions AS d
                WHERE d.metric_id = 'cost_allocation_coverage'),
            CAST([] AS VARCHAR[])
        ) AS owner_tag_keys
    FROM kpi.metric_runs AS r
),
cost_rows AS (
    SELECT
        c.cost_id,
        c.ChargePeriodStart,
        c.BilledCost,
        c.EffectiveCost,
        kpi.cost_group(
            CAST(c.ChargePeriodStart AT TIME ZONE r.timezone AS DATE), c.ProviderName,
            c.ServiceCategory, c.service, c.source, c.ChargeCategory
        ) AS cost_group,
        CASE
            WHEN kpi.cost_is_allocated(c.cost_centre, c.service, c.application, c.Tags, r.owner_tag_keys)
                THEN 'allocated'
            ELSE 'unallocated'
        END AS allocation
    FROM core.costs AS c
    CROSS JOIN last_run AS r
),
-- A cost row is in one spend group and one allocation group; both keys allow an equi-join.
cost_rows_by_key AS (
    SELECT *, unnest([cost_group, cost_group || '|' || allocation]) AS group_key
    FROM cost_rows
)
SELECT
    e.metric_id,
    e.grain,
    e.period_start,
    e.dimension,
    e.dimension_value,
    e.role,
    e.record_id AS cost_group,
    c.cost_id,
    c.ChargePeriodStart,
    c.BilledCost,
    c.EffectiveCost,
    c.allocation
FROM kpi.metric_evidence AS e
JOIN cost_rows_by_key AS c ON e.record_table = 'cost_group' AND e.record_id = c.group_key;
