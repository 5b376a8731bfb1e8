-- Cost line items in the local day of their charge start, summed per cost group (day x provider x
-- category x service x source, credits apart): tens of millions of rows become a compact audit
-- trail that kpi.cost_evidence expands back to cost_ids. Credits and refunds are negative and
-- reduce spend (costs_by_local_day is defined in _facts_input.sql).
SELECT
    'cost_group' AS record_table,
    kpi.cost_group(charge_day, ProviderName, ServiceCategory, service, source, cost_kind)
        AS record_id,
    charge_day AS local_day,
    service,
    ProviderName AS provider,
    ServiceCategory AS service_category,
    source,
    amount AS num,
    true AS in_numerator,
    true AS counts_in_n,
    line_items AS record_count,
    CASE WHEN cost_kind = 'credit' THEN 'credit or refund (negative cost) included' END AS note
FROM costs_by_local_day(by_service := true, by_allocation := false)
