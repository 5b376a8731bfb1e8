-- The allocated share of the period's positive cost, per cost group and allocation: allocated when
-- an allocation column (cost_centre, service, application) or one of the owner tag keys names an
-- owner. Credits and refunds (negative amounts) are left out of both sides: netted in, they would
-- push the unallocated part below zero and the share above 100%
-- (costs_by_local_day is defined in _facts_input.sql).
WITH costs_judged AS (
    SELECT
        *,
        kpi.cost_is_allocated(cost_centre, service, application, Tags, getvariable('owner_tag_keys'))
            AS is_allocated
    FROM costs_by_local_day
)
SELECT
    'cost_group' AS record_table,
    kpi.cost_group(charge_day, ProviderName, ServiceCategory, service, source, cost_kind)
        || CASE WHEN is_allocated THEN '|allocated' ELSE '|unallocated' END AS record_id,
    charge_day AS local_day,
    ProviderName AS provider,
    ServiceCategory AS service_category,
    source,
    sum(amount) AS num,
    sum(amount) AS den,
    cost_kind = 'charge' AND is_allocated AS in_numerator,
    cost_kind = 'charge' AS in_denominator,
    count(*) AS record_count,
    CASE WHEN cost_kind = 'credit' THEN 'excluded: credit or refund' END AS note
FROM costs_judged
GROUP BY ALL
