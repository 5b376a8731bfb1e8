-- Azure Cost Management daily rows (day x ServiceName x one tag) as FOCUS columns.
-- raw.azure_cost_costs is already unique per record_key (day|service|tag value|currency), so
-- cost_id is too.
-- BilledCost is the ActualCost query's amount (a reservation bought up front counts on its day),
-- EffectiveCost the AmortizedCost query's (spread over the days it covers); a record landed before
-- the connector read both has its actual cost for both. A currency with a configured rate is
-- converted to the reporting one.
WITH daily_rows AS (
    SELECT
        record_key,
        CAST(record ->> 'date' AS DATE) AS charge_day,
        record ->> 'azure_service' AS azure_service,
        record ->> 'tag_key' AS tag_key,
        record ->> 'tag_value' AS tag_value,
        record ->> 'allocation' AS allocation,
        TRY_CAST(record ->> 'cost' AS DECIMAL(38, 12)) AS cost,
        TRY_CAST(coalesce(record ->> 'amortized_cost', record ->> 'cost') AS DECIMAL(38, 12))
            AS amortized_cost,
        upper(record ->> 'currency') AS currency,
        loaded_at
    FROM raw.azure_cost_costs
),
-- The reporting currency and rates every cost source converts with; none stored yet: no rates.
currency_settings AS (
    SELECT * FROM raw.cost_settings LIMIT 1
),
priced AS (
    SELECT
        daily_rows.*,
        currency_settings.reporting_currency,
        cost_rate(currency, currency_settings.rate_currencies, currency_settings.rate_values)
            AS rate
    FROM daily_rows
    LEFT JOIN currency_settings ON true
)
SELECT
    'azure_cost:' || record_key AS cost_id,
    'azure_cost' AS source,
    CAST(NULL AS VARCHAR) AS source_file,
    CASE WHEN rate IS NULL THEN currency ELSE reporting_currency END AS BillingCurrency,
    CAST(date_trunc('month', charge_day) AS TIMESTAMPTZ) AS BillingPeriodStart,
    CAST(date_trunc('month', charge_day) + INTERVAL 1 MONTH AS TIMESTAMPTZ) AS BillingPeriodEnd,
    CAST(charge_day AS TIMESTAMPTZ) AS ChargePeriodStart,
    CAST(charge_day + INTERVAL 1 DAY AS TIMESTAMPTZ) AS ChargePeriodEnd,
    -- A group nets a day's usage, refunds and credits: a Credit only when both amounts are
    -- negative. A refund day whose ActualCost is negative but AmortizedCost positive stays Usage,
    -- so the KPIs judge it by the sign of the column they sum.
    CASE WHEN cost < 0 AND amortized_cost < 0 THEN 'Credit' ELSE 'Usage' END AS ChargeCategory,
    cost_converted(cost, rate) AS BilledCost,
    cost_converted(amortized_cost, rate) AS EffectiveCost,
    'Microsoft' AS ProviderName,
    'Microsoft' AS PublisherName,
    'Microsoft' AS InvoiceIssuerName,
    azure_service AS ServiceName,
    cloud_service_category(azure_service) AS ServiceCategory,
    CASE WHEN tag_value IS NOT NULL THEN json_object(tag_key, tag_value) END AS Tags,
    CASE WHEN allocation = 'cost_centre' THEN display_name(tag_value) END AS cost_centre,
    CASE WHEN allocation = 'service' THEN display_name(tag_value) END AS service,
    CASE WHEN allocation = 'application' THEN display_name(tag_value) END AS application,
    loaded_at
FROM priced
