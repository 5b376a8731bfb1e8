-- The allocated share of the period's positive cost, per allocation group (day x provider x
-- category x source, credits apart, allocated or not): allocated when an allocation column
-- (cost_centre, service, application) or one of the owner tag keys names an owner. Credits and
-- refunds (negative amounts) are left out of both sides: netted in, they would push the
-- unallocated part below zero and the share above 100%. The metric shows no service, so its
-- groups leave the service out: a few rows per day instead of one per service and day
-- (costs_by_local_day, with is_allocated, is defined in _facts_input.sql).
SELECT
    'cost_group' AS record_table,
    kpi.cost_allocation_group(
        charge_day, ProviderName, ServiceCategory, source, cost_kind, is_allocated
    ) AS record_id,
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
FROM costs_by_local_day(by_service := false, by_allocation := true)
