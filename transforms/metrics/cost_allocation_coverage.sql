-- Cost per cost group and allocation: allocated when an allocation column (cost_centre, service,
-- application) or one of the owner tag keys names an owner. Credits count on both sides
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
    kpi.cost_group(charge_day, ProviderName, ServiceCategory, service, source, ChargeCategory)
        || CASE WHEN is_allocated THEN '|allocated' ELSE '|unallocated' END AS record_id,
    charge_day AS local_day,
    ProviderName AS provider,
    ServiceCategory AS service_category,
    source,
    sum(amount) AS num,
    sum(amount) AS den,
    is_allocated AS in_numerator,
    true AS in_denominator,
    count(*) AS record_count
FROM costs_judged
GROUP BY ALL
