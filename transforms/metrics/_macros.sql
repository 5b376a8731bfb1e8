-- The calendar, dimension and cost rules every KPI query shares, replaced on each run so the
-- warehouse always holds this release's meaning (the evidence views in _evidence.sql use them too,
-- so they live in schema kpi and travel with the published file).

-- The first day of the period that contains `day`; week_offset is 0 for Monday .. 6 for Sunday.
CREATE OR REPLACE MACRO kpi.period_of(grain, day, week_offset) AS
    CASE grain
        WHEN 'week' THEN (day - to_days(CAST((isodow(day) - 1 - week_offset + 7) % 7 AS INTEGER)))::DATE
        WHEN 'month' THEN date_trunc('month', day)::DATE
        WHEN 'quarter' THEN date_trunc('quarter', day)::DATE
    END;

-- The first day after the period that starts on period_start.
CREATE OR REPLACE MACRO kpi.period_after(grain, period_start) AS
    CASE grain
        WHEN 'week' THEN (period_start + INTERVAL 7 DAY)::DATE
        WHEN 'month' THEN (period_start + INTERVAL 1 MONTH)::DATE
        WHEN 'quarter' THEN (period_start + INTERVAL 3 MONTH)::DATE
    END;

-- A fact's period (or weight) at `grain`, from the three stored with it in kpi.metric_facts.
CREATE OR REPLACE MACRO kpi.at_grain(grain, week_item, month_item, quarter_item) AS
    CASE grain WHEN 'week' THEN week_item WHEN 'month' THEN month_item ELSE quarter_item END;

-- A fact's value of `dimension` ('all' for the total): the one place dimensions are named.
CREATE OR REPLACE MACRO kpi.dimension_value(
    dimension, service, assignment_group, priority, source, provider, service_category, initiative
) AS
    CASE dimension
        WHEN 'all' THEN 'all'
        WHEN 'service' THEN service
        WHEN 'assignment_group' THEN assignment_group
        WHEN 'priority' THEN priority
        WHEN 'source' THEN source
        WHEN 'provider' THEN provider
        WHEN 'service_category' THEN service_category
        WHEN 'initiative' THEN initiative
    END;

-- The period of `grain` a record of day `day` belongs to, or NULL when a manual input spanning
-- [day, span_last] does not fit inside one period (or, with fill, does not span exactly one period).
CREATE OR REPLACE MACRO kpi.fitting_period(grain, day, span_last, fill, week_offset) AS
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
CREATE OR REPLACE MACRO kpi.span_weight(grain, day, span_last, by_span, week_offset) AS
    CASE
        WHEN coalesce(by_span, false) AND span_last IS NOT NULL
            THEN (span_last - day + 1) / (
                kpi.period_after(grain, kpi.period_of(grain, day, week_offset))
                - kpi.period_of(grain, day, week_offset)
            )::DOUBLE
        ELSE 1.0
    END;

-- Whether a cost line's charge period is whole UTC days (a day or a month of billing, as FOCUS
-- exports and the cost APIs give them) rather than part of a day (hourly granularity). A line
-- starting at 00:00 UTC whose end is missing or unreadable (listed in data quality) is taken as
-- billed by day, as most lines are: placed on the local day of its start instead, a month's first
-- day would move into the month before west of UTC.
CREATE OR REPLACE MACRO kpi.charge_is_whole_utc_days(charge_start, charge_end) AS
    coalesce(
        (charge_end > charge_start OR charge_end IS NULL)
            AND epoch(charge_start) % 86400 = 0
            AND coalesce(epoch(charge_end) % 86400 = 0, true),
        false
    );

-- Whether a cost line counts in the cost KPIs: sums across currencies mean nothing, so only lines
-- in the currency the run sums (kpi.metric_runs.cost_currency) count. A line without a currency
-- counts (data quality lists it as a missing mandatory value), as does every line when no line
-- has one. Staging stores currency codes in upper case.
CREATE OR REPLACE MACRO kpi.in_cost_currency(currency, cost_currency) AS
    coalesce(currency = cost_currency, true);

-- The calendar day a cost line counts on. Providers bill whole days in UTC: such a line keeps its
-- UTC billing date, so a day's or a month's charge stays in its own month west of UTC too (its
-- start, 00:00 UTC, is the evening before there). A line of part of a day counts on the local day
-- its charge starts.
CREATE OR REPLACE MACRO kpi.charge_day(charge_start, is_whole_utc_days, timezone) AS
    CAST(charge_start AT TIME ZONE CASE WHEN is_whole_utc_days THEN 'UTC' ELSE timezone END AS DATE);

-- How far a source's last read (meta.source_reads: the instant it started) reaches, as a
-- wall-clock time of the calendar, to compare with the periods' ends. The cost APIs (aws_ce,
-- azure_cost) are asked for whole UTC days up to the UTC day of the run's as-of, and their days
-- count on their UTC date (kpi.charge_day): they reach the start of that date. East of UTC a
-- month's last UTC day ends after the month's first night there, so that night's read does not
-- complete the month.
CREATE OR REPLACE MACRO kpi.read_through(source, read_at, as_of, timezone) AS
    CASE
        WHEN source IN ('aws_ce', 'azure_cost')
            THEN CAST(least(read_at, as_of) AT TIME ZONE 'UTC' AS DATE)::TIMESTAMP
        ELSE read_at AT TIME ZONE timezone
    END;

-- Whether one of a cost row's allocation columns names an owner.
CREATE OR REPLACE MACRO kpi.cost_names_owner(cost_centre, service, application) AS
    nullif(trim(cost_centre), '') IS NOT NULL
        OR nullif(trim(service), '') IS NOT NULL
        OR nullif(trim(application), '') IS NOT NULL;

-- A cost row's tag keys in lower case, to compare with the configured owner tag keys. Only keys
-- with a value count: {"owner": ""} names no owner (as staging's allocation columns read it).
CREATE OR REPLACE MACRO kpi.cost_tag_keys(tags) AS
    list_transform(
        list_filter(map_entries(try_cast(tags AS MAP(VARCHAR, VARCHAR))),
            lambda e: nullif(trim(e.value), '') IS NOT NULL),
        lambda e: lower(e.key));

-- Whether a cost row's (lower-case) tag keys include one of the owner tag keys.
CREATE OR REPLACE MACRO kpi.cost_has_owner_tag(tag_keys, owner_tag_keys) AS
    coalesce(list_has_any(tag_keys, owner_tag_keys), false);

-- Whether a cost row has an owner: an allocation column, or one of the owner tag keys (lower case).
-- (A CASE, so the tags' JSON is parsed only for rows no allocation column names.)
CREATE OR REPLACE MACRO kpi.cost_is_allocated(cost_centre, service, application, tags, owner_tag_keys) AS
    CASE
        WHEN kpi.cost_names_owner(cost_centre, service, application) THEN true
        ELSE kpi.cost_has_owner_tag(kpi.cost_tag_keys(tags), owner_tag_keys)
    END;

-- How an allocation group and kpi.cost_evidence name whether a cost row has an owner.
CREATE OR REPLACE MACRO kpi.cost_allocation(is_allocated) AS
    CASE WHEN is_allocated THEN 'allocated' ELSE 'unallocated' END;

-- Credits and refunds apart from charges, from the row's category and the sign of its amount:
-- spend nets them, coverage leaves them out.
CREATE OR REPLACE MACRO kpi.cost_kind_of(is_credit_category, is_negative) AS
    CASE WHEN is_credit_category OR is_negative THEN 'credit' ELSE 'charge' END;

CREATE OR REPLACE MACRO kpi.cost_kind(charge_category, amount) AS
    kpi.cost_kind_of(charge_category ILIKE 'credit', amount < 0);

-- The cost group a cost row is counted in: its local day, cost dimensions and kind, as a JSON
-- list, so no two groups share a key (a name with '|' in it, a missing service and one named
-- '(unknown)' stay apart) and kpi.cost_evidence lists each cost row once.
CREATE OR REPLACE MACRO kpi.cost_group(local_day, provider, service_category, service, source, cost_kind) AS
    CAST(to_json([
        strftime(local_day, '%Y-%m-%d'), provider, service_category, service, source, cost_kind
    ]) AS VARCHAR);

-- The allocation group a cost row is counted in for allocation coverage: its local day, the cost
-- dimensions that metric shows (no service: on a real bill one group per service and day would
-- make a thousand times more facts for the same values), kind and whether it is allocated.
CREATE OR REPLACE MACRO kpi.cost_allocation_group(
    local_day, provider, service_category, source, cost_kind, is_allocated
) AS
    CAST(to_json([
        strftime(local_day, '%Y-%m-%d'), provider, service_category, source, cost_kind,
        kpi.cost_allocation(is_allocated)
    ]) AS VARCHAR);

-- Why a value cannot be published, if it lies outside what the metric can be (or is not a number);
-- NULL when it is fine. The check's name is part of the reason, so readers can find it.
CREATE OR REPLACE MACRO kpi.out_of_range_reason(value, low, high) AS
    CASE
        WHEN value IS NULL THEN NULL
        WHEN NOT isfinite(value)
            THEN format('quarantined: kpi_values_in_range: {:g} is not a finite number', value)
        WHEN value < low OR value > high
            THEN format(
                'quarantined: kpi_values_in_range: {:g} outside {}-{}', value,
                coalesce(format('{:g}', low), '-inf'), coalesce(format('{:g}', high), 'inf')
            )
    END;
