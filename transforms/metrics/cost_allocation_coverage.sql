-- The allocated share of the period's positive cost, per cost group and allocation: allocated when
-- an allocation column (cost_centre, service, application) or one of the owner tag keys names an
-- owner. Credits and refunds (negative amounts) are left out of both sides: netted in, they would
-- push the unallocated part below zero and the share above 100%
-- (costs_by_local_day, with is_allocated, is defined in _facts_input.sql).
SELECT
    'cost_group' AS record_table,
    kpi.cost_group(charge_day, ProviderName, ServiceCategory, service, source, cost_kind)
        || CASE WHEN is_allocated THEN '|allocated' ELSE '|unallocated' END AS record_id,
    charge_day AS local_day,
    ProviderName AS provider,
    ServiceCategory AS service_category,
    source,
    amount AS num,
    amount AS den,
    cost_kind = 'charge' AND is_allocated AS in_numerator,
    cost_kind = 'charge' AS in_denominator,
    line_items AS record_count,
    CASE WHEN cost_kind = 'credit' THEN 'excluded: credit or refund' END AS note
FROM costs_by_local_day
