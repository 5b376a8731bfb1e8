-- AWS Cost Explorer daily groups (day x AWS service x one cost-allocation tag) as FOCUS columns.
-- raw.aws_ce_costs is already unique per record_key (day|service|tag value), so cost_id is too.
-- BilledCost is UnblendedCost (the invoice basis), EffectiveCost is AmortizedCost.
WITH daily_groups AS (
    SELECT
        record_key,
        record ->> 'date' AS usage_date,
        record ->> 'aws_service' AS aws_service,
        record ->> 'tag_key' AS tag_key,
        record ->> 'tag_value' AS tag_value,
        record ->> 'allocation' AS allocation,
        TRY_CAST(record ->> 'billed_cost' AS DECIMAL(38, 12)) AS billed_cost,
        TRY_CAST(record ->> 'effective_cost' AS DECIMAL(38, 12)) AS effective_cost,
        upper(record ->> 'currency') AS currency,
        loaded_at
    FROM raw.aws_ce_costs
),
dated AS (
    SELECT
        *,
        CAST(usage_date AS DATE) AS charge_day,
        date_trunc('month', CAST(usage_date AS DATE)) AS billing_month
    FROM daily_groups
)
SELECT
    'aws_ce:' || record_key AS cost_id,
    'aws_ce' AS source,
    CAST(NULL AS VARCHAR) AS source_file,
    currency AS BillingCurrency,
    CAST(billing_month AS TIMESTAMPTZ) AS BillingPeriodStart,
    CAST(billing_month + INTERVAL 1 MONTH AS TIMESTAMPTZ) AS BillingPeriodEnd,
    CAST(charge_day AS TIMESTAMPTZ) AS ChargePeriodStart,
    CAST(charge_day + INTERVAL 1 DAY AS TIMESTAMPTZ) AS ChargePeriodEnd,
    CASE WHEN billed_cost < 0 THEN 'Credit' ELSE 'Usage' END AS ChargeCategory,
    billed_cost AS BilledCost,
    effective_cost AS EffectiveCost,
    'AWS' AS ProviderName,
    'AWS' AS PublisherName,
    'AWS' AS InvoiceIssuerName,
    aws_service AS ServiceName,
    cloud_service_category(aws_service) AS ServiceCategory,
    CASE WHEN tag_value IS NOT NULL THEN json_object(tag_key, tag_value) END AS Tags,
    CASE WHEN allocation = 'cost_centre' THEN tag_value END AS cost_centre,
    CASE WHEN allocation = 'service' THEN tag_value END AS service,
    CASE WHEN allocation = 'application' THEN tag_value END AS application,
    loaded_at
FROM dated
