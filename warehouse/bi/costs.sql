-- Cloud and IT cost line items in FOCUS terms, reduced to what a cost report slices by: when,
-- who billed it, which service it is allocated to, and how much. The service is named as the KPIs
-- count it (kpi.name_spellings: a tag "EMAIL" is the Email service); the tag's own spelling comes
-- last.
-- The kind a name is looked up as is a column of the left side, not a constant of the join:
-- DuckDB 2.0.1 drops a query's LIMIT when a LEFT JOIN's right side is filtered to nothing (an
-- instance whose names need no other spelling), and a BI tool's `LIMIT 1000` preview read the
-- whole table.
CREATE OR REPLACE VIEW bi.costs AS
SELECT
    cost_id,
    source,
    ChargePeriodStart AS charge_period_start,
    ChargePeriodEnd AS charge_period_end,
    ProviderName AS provider,
    ServiceCategory AS service_category,
    ServiceName AS provider_service,
    SubAccountName AS sub_account,
    RegionId AS region,
    ChargeCategory AS charge_category,
    BillingCurrency AS currency,
    CAST(BilledCost AS DOUBLE) AS billed_cost,
    CAST(EffectiveCost AS DOUBLE) AS effective_cost,
    coalesce(services.spelling, costs.service) AS service,
    cost_centre,
    application,
    costs.service AS service_as_recorded
FROM (SELECT *, 'service' AS service_kind FROM core.costs) AS costs
LEFT JOIN kpi.name_spellings AS services
    ON services.kind = costs.service_kind AND services.name = costs.service;

COMMENT ON VIEW bi.costs IS 'One row per cost line item (a charge for one period), in FOCUS terms.';
