-- KPI audit trail: the records behind every kpi.metric_values row. Facts are stored once per metric
-- and record (not once per grain and dimension) and expanded to periods here, on demand. Cost rows
-- are stored as one fact per cost group (local day and cost dimensions, with its record_count);
-- kpi.cost_evidence expands a group back to its core.costs rows. Replaced on each run, persistent
-- so the published file answers the same questions.

-- For any KPI value: which records made its numerator and denominator (and which were excluded, and why).
-- A lowest_ratio value (e.g. the worst service's availability) rests on the records of the one
-- dimension value it took (lowest_of of dimension worst_of), not on those of its own row.
CREATE OR REPLACE VIEW kpi.metric_evidence AS
WITH values_with_facts_id AS (
    SELECT
        v.metric_id, v.grain, v.period_start, v.dimension, v.dimension_value, d.facts_id, d.statistic,
        CASE WHEN d.statistic = 'lowest_ratio' THEN d.worst_of ELSE v.dimension END AS facts_dimension,
        CASE WHEN d.statistic = 'lowest_ratio' THEN v.lowest_of ELSE v.dimension_value END
            AS facts_dimension_value
    FROM kpi.metric_values AS v
    JOIN kpi.metric_definitions AS d ON d.metric_id = v.metric_id
),
matching_facts AS (
    SELECT
        v.metric_id, v.grain, v.period_start, v.dimension, v.dimension_value, f.*,
        kpi.at_grain(v.grain, f.week_weight, f.month_weight, f.quarter_weight) AS weight
    FROM values_with_facts_id AS v
    JOIN kpi.metric_facts AS f
        ON f.facts_id = v.facts_id
        AND kpi.dimension_value(
            v.facts_dimension, f.service, f.assignment_group, f.priority, f.source, f.provider,
            f.service_category, f.initiative
        ) = v.facts_dimension_value
    WHERE kpi.at_grain(v.grain, f.week_period, f.month_period, f.quarter_period) = v.period_start
        OR (v.statistic = 'cumulative_ratio'
            AND kpi.at_grain(v.grain, f.week_period, f.month_period, f.quarter_period) < v.period_start)
)
-- A record in both the numerator and the denominator (a failed change) has a row for each role,
-- each with its own contribution only: summed over all rows, the contributions give the value's
-- numerator and denominator.
SELECT
    metric_id,
    grain,
    period_start,
    dimension,
    dimension_value,
    role,
    record_table,
    record_id,
    completed_at,
    local_day,
    CASE WHEN role = 'numerator' THEN num * weight END AS numerator_contribution,
    CASE WHEN role = 'denominator' THEN den * weight END AS denominator_contribution,
    x AS sample_value,
    record_count,
    note
FROM (
    SELECT
        *,
        unnest(list_filter(
            [
                CASE WHEN in_numerator THEN 'numerator' END,
                CASE WHEN in_denominator THEN 'denominator' END,
                CASE WHEN NOT in_numerator AND NOT in_denominator THEN 'excluded' END
            ],
            lambda role: role IS NOT NULL
        )) AS role
    FROM matching_facts
);

-- The individual cost rows behind a cost metric's value, computed on demand from core.costs with
-- the time zone, currency, cost column and allocation rule of the last run.
CREATE OR REPLACE VIEW kpi.cost_evidence AS
WITH cost_rules AS (
    SELECT
        m.metric_id,
        r.timezone,
        coalesce(owner.params->>'cost_column', 'EffectiveCost') AS cost_column,
        coalesce(CAST(owner.params->'owner_tag_keys' AS VARCHAR[]), CAST([] AS VARCHAR[]))
            AS owner_tag_keys
    FROM kpi.metric_definitions AS m
    JOIN kpi.metric_definitions AS owner ON owner.metric_id = m.facts_id
    CROSS JOIN kpi.metric_runs AS r
),
cost_groups_in_evidence AS (
    SELECT e.*, rules.timezone, rules.cost_column, rules.owner_tag_keys
    FROM kpi.metric_evidence AS e
    JOIN cost_rules AS rules USING (metric_id)
    WHERE e.record_table = 'cost_group'
),
cost_rows AS (
    SELECT
        c.*,
        kpi.charge_day(
            c.ChargePeriodStart,
            kpi.charge_is_whole_utc_days(c.ChargePeriodStart, c.ChargePeriodEnd),
            rules.timezone
        ) AS charge_day,
        CASE rules.cost_column WHEN 'BilledCost' THEN c.BilledCost ELSE c.EffectiveCost END AS amount,
        rules.cost_column,
        rules.owner_tag_keys
    FROM core.costs AS c
    CROSS JOIN (SELECT DISTINCT timezone, cost_column, owner_tag_keys FROM cost_rules) AS rules
    -- The run's currency as a scalar: taken from the cross join it made look-ups 45% slower.
    WHERE kpi.in_cost_currency(
        c.BillingCurrency, (SELECT any_value(cost_currency) FROM kpi.metric_runs)
    )
),
-- A cost row is in one spend group (kpi.cost_group) and one allocation group
-- (kpi.cost_allocation_group); both keys allow an equi-join.
cost_rows_grouped AS (
    SELECT
        *,
        kpi.cost_kind(ChargeCategory, amount) AS cost_kind,
        kpi.cost_is_allocated(cost_centre, service, application, Tags, owner_tag_keys)
            AS is_allocated
    FROM cost_rows
),
cost_rows_by_key AS (
    SELECT
        * EXCLUDE (cost_kind, is_allocated),
        kpi.cost_allocation(is_allocated) AS allocation,
        unnest([
            kpi.cost_group(charge_day, ProviderName, ServiceCategory, service, source, cost_kind),
            kpi.cost_allocation_group(
                charge_day, ProviderName, ServiceCategory, source, cost_kind, is_allocated
            )
        ]) AS group_key
    FROM cost_rows_grouped
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
FROM cost_groups_in_evidence AS e
JOIN cost_rows_by_key AS c
    ON c.cost_column = e.cost_column
    AND c.owner_tag_keys = e.owner_tag_keys
    AND e.record_id = c.group_key;
