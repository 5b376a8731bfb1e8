-- Cost line items in the local day of their charge start, summed per cost group (day x provider x
-- category x service x source, credits apart): tens of millions of rows become a compact audit
-- trail that kpi.cost_evidence expands back to cost_ids. Credits are negative and reduce spend.
WITH costs_by_local_day AS (
    SELECT
        *,
        CAST(ChargePeriodStart AT TIME ZONE getvariable('timezone') AS DATE) AS charge_day,
        CAST(CASE getvariable('cost_column') WHEN 'BilledCost' THEN BilledCost ELSE EffectiveCost END
            AS DOUBLE) AS amount
    FROM core.costs
    WHERE ChargePeriodStart IS NOT NULL
)
SELECT
    'cost_group' AS record_table,
    kpi.cost_group(charge_day, ProviderName, ServiceCategory, service, source, ChargeCategory)
        AS record_id,
    charge_day AS local_day,
    service,
    ProviderName AS provider,
    ServiceCategory AS service_category,
    source,
    sum(amount) AS num,
    true AS in_numerator,
    true AS counts_in_n,
    count(*) AS record_count,
    CASE WHEN ChargeCategory ILIKE 'credit' THEN 'credit (negative cost) included' END AS note
FROM costs_by_local_day
GROUP BY charge_day, ProviderName, ServiceCategory, service, source, ChargeCategory ILIKE 'credit',
    record_id
