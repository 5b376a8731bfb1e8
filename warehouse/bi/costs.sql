-- Cloud and IT cost line items in FOCUS terms, reduced to what a cost report slices by: when,
-- who billed it, which service it is allocated to, and how much.
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
    service,
    cost_centre,
    application
FROM core.costs;

COMMENT ON VIEW bi.costs IS 'One row per cost line item (a charge for one period), in FOCUS terms.';
