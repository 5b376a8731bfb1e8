-- The columns a metric SQL file may produce, one row per record; those it leaves out are NULL.
-- (Declared as an empty table so the runner can read the names and types.)
CREATE OR REPLACE TEMP TABLE metric_facts_input (
    record_table      VARCHAR,
    record_id         VARCHAR,
    completed_at      TIMESTAMPTZ,
    local_day         DATE,
    span_last         DATE,
    fill_bucket       BOOLEAN,
    weight_by_span    BOOLEAN,
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
    in_numerator      BOOLEAN,
    in_denominator    BOOLEAN,
    counts_in_n       BOOLEAN,
    record_count      BIGINT,
    note              VARCHAR  -- several notes of one record are joined by '; '
)
;

-- Services and groups named alike but for letter case ("Email", "email", "EMAIL" across records
-- and sources) are one dimension value, shown in the spelling of the earliest record that uses
-- one (then the first in byte order): one row per spelling that another spelling stands for.
-- (Staging already reads names by their words alone, so spaces play no part here.) Stored, so
-- the service pages read the names as the KPIs do.
DELETE FROM kpi.name_spellings;
INSERT INTO kpi.name_spellings BY NAME
WITH sightings AS (
    SELECT 'service' AS kind, service AS name, min(opened_at) AS seen_at
    FROM core.incidents GROUP BY ALL
    UNION ALL
    SELECT 'group', assignment_group, min(opened_at) FROM core.incidents GROUP BY ALL
    UNION ALL
    SELECT 'service', service, min(opened_at) FROM core.changes GROUP BY ALL
    UNION ALL
    SELECT 'group', assignment_group, min(opened_at) FROM core.changes GROUP BY ALL
    UNION ALL
    SELECT 'service', service, min(opened_at) FROM core.requests GROUP BY ALL
    UNION ALL
    SELECT 'group', assignment_group, min(opened_at) FROM core.requests GROUP BY ALL
    UNION ALL
    SELECT 'service', service, min(start_time) FROM core.sla_records GROUP BY ALL
    UNION ALL
    SELECT 'service', service, min(begin_at) FROM core.outages GROUP BY ALL
    UNION ALL
    SELECT 'service', service, min(responded_at) FROM core.survey_responses GROUP BY ALL
    UNION ALL
    SELECT 'service', service, min(ChargePeriodStart) FROM core.costs GROUP BY ALL
),
first_sightings AS (
    SELECT kind, name, min(coalesce(seen_at, 'infinity'::TIMESTAMPTZ)) AS seen_at
    FROM sightings
    WHERE name IS NOT NULL
    GROUP BY ALL
),
spellings AS (
    SELECT
        kind,
        name,
        first_value(name) OVER (PARTITION BY kind, lower(name) ORDER BY seen_at, name) AS spelling
    FROM first_sightings
)
SELECT kind, name, spelling FROM spellings WHERE name <> spelling
;

-- Incidents that reached an end (resolved, or closed without a resolution time): the population
-- the incident KPIs start from, with the duration each would contribute. Durations subtract epochs,
-- so the session time zone of whoever runs this cannot bend them on a DST day.
CREATE OR REPLACE TEMP VIEW completed_incidents AS
SELECT
    incident_id,
    source,
    number,
    opened_at,
    resolved_at,
    closed_at,
    coalesce(resolved_at, closed_at) AS completed_at,
    lower(state) AS state,
    coalesce(lower(state) IN ('resolved', 'closed'), false) AS has_ended,
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
    (epoch(resolved_at) - epoch(opened_at)) / 3600.0 AS resolution_hours
FROM core.incidents
WHERE coalesce(resolved_at, closed_at) IS NOT NULL
;

-- Every completed incident with why it cannot count as a resolution, if so: the judgement that
-- resolution times, reopen rate and first contact resolution share. An incident still open (new,
-- in progress, on hold, or of unknown state) is not resolved, whatever its resolved_at says.
CREATE OR REPLACE TEMP VIEW resolved_incidents AS
SELECT
    *,
    CASE
        WHEN list_contains(getvariable('cancelled_states'), state) THEN 'excluded: canceled'
        WHEN NOT has_ended THEN 'excluded: not resolved or closed (still open)'
        WHEN resolved_at IS NULL THEN 'excluded: closed without resolved_at'
    END AS resolution_exclusion
FROM completed_incidents
;

-- The resolution time of every completed incident as facts, with why it cannot count if so.
-- Resolution, restore and security resolution times differ only in which incidents they take
-- (filter on the last four columns, then leave them out).
CREATE OR REPLACE TEMP VIEW incident_resolutions AS
WITH incidents_judged AS (
    SELECT
        *,
        CASE
            WHEN resolution_exclusion IS NOT NULL THEN resolution_exclusion
            WHEN opened_at IS NULL THEN 'excluded: no opened_at'
            WHEN resolution_hours < 0 THEN 'excluded: resolved before opened'
        END AS exclusion
    FROM resolved_incidents
)
SELECT
    'incident' AS record_table,
    incident_id AS record_id,
    completed_at,
    service,
    assignment_group,
    priority_label AS priority,
    source,
    resolution_hours AS num,
    1.0 AS den,
    resolution_hours AS x,
    exclusion IS NULL AS in_numerator,
    exclusion IS NULL AS in_denominator,
    exclusion AS note,
    priority AS priority_level,
    caused_by_change_id,
    is_security,
    category
FROM incidents_judged
;

-- Deployments: production changes (is_production true or unknown) of the counted types (type
-- in change_types, or unknown) that reached an end, placed at their actual end (else their
-- closing), and whether they were cancelled. Change failure rate and deployment frequency both
-- count exactly the ones not cancelled. An unknown state is not cancelled, so such a change still
-- counts. An unknown type (Jira and other sources without one) counts like an unknown
-- is_production, so a change_types filter cannot drop a source silently; type_note says so.
CREATE OR REPLACE TEMP VIEW completed_changes AS
WITH changes_with_end AS (
    SELECT
        *,
        coalesce(actual_end, closed_at) AS completed_at,
        CASE
            WHEN len(getvariable('change_types')) > 0 AND type IS NULL
                THEN 'type unknown, counted as one of change_types'
        END AS type_note
    FROM core.changes
    WHERE is_production IS DISTINCT FROM false
        AND (len(getvariable('change_types')) = 0
            OR type IS NULL
            OR list_contains(getvariable('change_types'), lower(type)))
)
SELECT
    *,
    coalesce(list_contains(getvariable('cancelled_states'), lower(state)), false) AS is_cancelled
FROM changes_with_end
WHERE completed_at IS NOT NULL
;

-- Manual inputs with their span normalised to [first day, last day] (see transforms/metrics/inputs.yaml).
CREATE OR REPLACE TEMP VIEW measure_inputs AS
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
    -- A unit that is an ISO currency code (EUR, usd), for the KPIs that add or divide amounts.
    CASE WHEN regexp_full_match(trim(unit), '[A-Za-z]{3}') THEN upper(trim(unit)) END AS currency,
    dimension,
    dimension_value,
    source
FROM core.measures
;

-- Cost line items in the run's cost currency (_cost_currency.sql) summed once per run by charge
-- start instant, whether they bill whole UTC days,
-- and everything the cost KPIs may ask of a line: its cost dimensions, whether it is a credit by
-- category or by the sign of either cost column, whether an allocation column names an owner
-- and, if none does, its tag keys (lower case). Tens of millions of line items become a table a
-- few times smaller, which each cost KPI then reads with its own cost column, owner tag keys and
-- time zone.
CREATE OR REPLACE TEMP TABLE cost_lines_by_charge_start AS
WITH cost_lines AS NOT MATERIALIZED (
    SELECT
        ChargePeriodStart, ProviderName, ServiceCategory, service, source,
        kpi.charge_is_whole_utc_days(ChargePeriodStart, ChargePeriodEnd) AS is_whole_utc_days,
        coalesce(ChargePeriodEnd, ChargePeriodStart) AS charge_end,
        ChargeCategory ILIKE 'credit' AS is_credit_category,
        BilledCost < 0 AS billed_is_negative,
        EffectiveCost < 0 AS effective_is_negative,
        kpi.cost_names_owner(cost_centre, service, application) AS has_allocation_column,
        CAST(BilledCost AS DOUBLE) AS billed,
        CAST(EffectiveCost AS DOUBLE) AS effective,
        Tags
    FROM core.costs
    WHERE ChargePeriodStart IS NOT NULL
        AND kpi.in_cost_currency(BillingCurrency, getvariable('cost_currency'))
),
-- Tags repeat across line items (one set per resource), so each distinct set that no allocation
-- column overrides is parsed once: 30-40% less time for this table than parsing every line's
-- tags on the full-scale benchmark, with one or 50,000 distinct sets. (cost_lines is read twice,
-- here for its tags alone; materialised once, its every column of every line would be copied.)
tag_sets AS (
    SELECT Tags, list_sort(list_distinct(kpi.cost_tag_keys(Tags))) AS tag_keys
    FROM (SELECT DISTINCT Tags FROM cost_lines WHERE NOT has_allocation_column)
)
SELECT
    cost_lines.* EXCLUDE (charge_end, billed, effective, Tags),
    tag_sets.tag_keys,
    max(charge_end) AS last_charge_end,
    sum(billed) AS billed,
    sum(effective) AS effective,
    count(*) AS line_items
FROM cost_lines
LEFT JOIN tag_sets ON tag_sets.Tags = cost_lines.Tags AND NOT cost_lines.has_allocation_column
GROUP BY ALL
;

-- How far each source of the batches has been read to its end, as a wall-clock time of the
-- calendar (compared with the periods' ends in _metric_values.sql), once per run. A paging
-- source reaches what its last read asked for (meta.source_reads, kpi.read_through); one not read
-- for a week is retired or broken (the source_freshness check says so) and holds nothing back:
-- not still_read, though a quiet period its last read came after still had nothing (a week
-- without a read must not turn a zero it confirmed into no data). A
-- file cost source (FOCUS exports, which usually arrive a day late) has no read to record: it
-- reaches the end of the latest charge it holds, placed as kpi.charge_day places its charges (a
-- line billing whole UTC days up to that UTC date, a part of a day up to its local end; a line
-- without an end up to its start). A charge ending after the as-of (a subscription billed ahead
-- for the coming month) tells nothing of how far usage was delivered and is left out. One whose
-- next charge, as long as its latest, is a week overdue (a daily export whose latest day ended
-- over 8 days before the as-of; a monthly invoice whose month ended over a month and a week
-- before) is paused or retired and holds nothing back either; a monthly invoice holds the next
-- month until its own invoice arrives, rather than letting it be scored without it. An export
-- with daily (or shorter) charges reaches the end of those alone: the month-long lines beside
-- them (tax, support, a monthly fee, billed for the whole month at once) say nothing of whether
-- the month's last day of usage has arrived. Read off cost_lines_by_charge_start (a few rows
-- per charge start), not the line items.
CREATE OR REPLACE TEMP TABLE sources_reads AS
SELECT
    source,
    kpi.read_through(source, read_at, getvariable('as_of'), getvariable('timezone'))
        AS read_through,
    read_at >= getvariable('as_of') - INTERVAL 7 DAY AS still_read
FROM meta.source_reads
UNION ALL
SELECT
    source,
    max(last_charge_end AT TIME ZONE
        CASE WHEN is_whole_utc_days THEN 'UTC' ELSE getvariable('timezone') END) AS read_through,
    true AS still_read
FROM (
    SELECT
        *,
        bool_or(is_daily_or_shorter) OVER (PARTITION BY source) AS source_has_daily_charges
    FROM (
        SELECT
            source, is_whole_utc_days,
            last_charge_end - ChargePeriodStart <= INTERVAL 1 DAY AS is_daily_or_shorter,
            max(last_charge_end) AS last_charge_end,
            arg_max(
                last_charge_end - ChargePeriodStart,
                (last_charge_end, last_charge_end - ChargePeriodStart)
            ) AS last_charge_length
        FROM cost_lines_by_charge_start
        WHERE source = 'focus' AND last_charge_end <= getvariable('as_of')
        GROUP BY ALL
    )
    WHERE last_charge_end + last_charge_length >= getvariable('as_of') - INTERVAL 7 DAY
)
WHERE is_daily_or_shorter OR NOT source_has_daily_charges
GROUP BY source
;

-- Cost line items per calendar day (kpi.charge_day), cost dimensions, kind (charge, or credit /
-- refund) and, when asked, service and allocation, with the amount of the configured FOCUS cost
-- column and the number of line items: what cloud spend (by service), cost allocation coverage
-- (by allocation) and IT spend read. Each asks for the columns it shows, so its groups come from
-- one aggregate rather than a finer one grouped again. The time-zone conversion runs once per
-- charge start group rather than once per line item.
CREATE OR REPLACE TEMP MACRO costs_by_local_day(by_service, by_allocation) AS TABLE
WITH costs_with_amount AS (
    SELECT
        *,
        getvariable('cost_column') = 'BilledCost' AS uses_billed_cost
    FROM cost_lines_by_charge_start
),
costs_by_kind AS (
    SELECT
        ChargePeriodStart, is_whole_utc_days, ProviderName, ServiceCategory, source,
        CASE WHEN by_service THEN service END AS service,
        -- kpi.cost_kind and kpi.cost_is_allocated, on the line items' pre-computed inputs.
        kpi.cost_kind_of(
            is_credit_category,
            CASE WHEN uses_billed_cost THEN billed_is_negative ELSE effective_is_negative END
        ) AS cost_kind,
        CASE
            WHEN by_allocation
                THEN has_allocation_column
                    OR kpi.cost_has_owner_tag(tag_keys, getvariable('owner_tag_keys'))
        END AS is_allocated,
        CASE WHEN uses_billed_cost THEN billed ELSE effective END AS amount,
        line_items
    FROM costs_with_amount
)
SELECT
    kpi.charge_day(ChargePeriodStart, is_whole_utc_days, getvariable('timezone')) AS charge_day,
    ProviderName,
    ServiceCategory,
    service,
    source,
    cost_kind,
    is_allocated,
    sum(amount) AS amount,
    sum(line_items) AS line_items
FROM costs_by_kind
GROUP BY ALL
