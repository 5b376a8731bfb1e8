-- AWS Cost Explorer daily groups (day x AWS service x one cost-allocation tag) as FOCUS columns.
-- raw.aws_ce_costs is already unique per record_key (day|service|tag value), so cost_id is too.
-- BilledCost is UnblendedCost (the invoice basis), EffectiveCost is AmortizedCost; a currency with
-- a configured rate is converted to the reporting one.
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
-- The reporting currency and rates every cost source converts with; none stored yet: no rates.
currency_settings AS (
    SELECT * FROM raw.cost_settings LIMIT 1
),
dated AS (
    SELECT
        daily_groups.*,
        CAST(usage_date AS DATE) AS charge_day,
        date_trunc('month', CAST(usage_date AS DATE)) AS billing_month,
        currency_settings.reporting_currency,
        cost_rate(currency, currency_settings.rate_currencies, currency_settings.rate_values)
            AS rate
    FROM daily_groups
    LEFT JOIN currency_settings ON true
)
SELECT
    'aws_ce:' || record_key AS cost_id,
    'aws_ce' AS source,
    CAST(NULL AS VARCHAR) AS source_file,
    CASE WHEN rate IS NULL THEN currency ELSE reporting_currency END AS BillingCurrency,
    CAST(billing_month AS TIMESTAMPTZ) AS BillingPeriodStart,
    CAST(billing_month + INTERVAL 1 MONTH AS TIMESTAMPTZ) AS BillingPeriodEnd,
    CAST(charge_day AS TIMESTAMPTZ) AS ChargePeriodStart,
    CAST(charge_day + INTERVAL 1 DAY AS TIMESTAMPTZ) AS ChargePeriodEnd,
    -- A group nets a day's usage, refunds and credits: a Credit only when both amounts are
    -- negative. A refund day whose UnblendedCost is negative but AmortizedCost positive stays
    -- Usage, so the KPIs judge it by the sign of the column they sum.
    CASE WHEN billed_cost < 0 AND effective_cost < 0 THEN 'Credit' ELSE 'Usage' END
        AS ChargeCategory,
    cost_converted(billed_cost, rate) AS BilledCost,
    cost_converted(effective_cost, rate) AS EffectiveCost,
    'AWS' AS ProviderName,
    'AWS' AS PublisherName,
    'AWS' AS InvoiceIssuerName,
    aws_service AS ServiceName,
    cloud_service_category(aws_service) AS ServiceCategory,
    CASE WHEN tag_value IS NOT NULL THEN json_object(tag_key, tag_value) END AS Tags,
    CASE WHEN allocation = 'cost_centre' THEN display_name(tag_value) END AS cost_centre,
    CASE WHEN allocation = 'service' THEN display_name(tag_value) END AS service,
    CASE WHEN allocation = 'application' THEN display_name(tag_value) END AS application,
    loaded_at
FROM dated
