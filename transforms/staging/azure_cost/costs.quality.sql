-- Cost Management rows that cannot be summed safely: an amount that is not a number, or a currency
-- other than the one the rest of core.costs is kept in.
WITH daily_rows AS (
    SELECT
        record_key,
        record ->> 'cost' AS cost,
        upper(record ->> 'currency') AS currency
    FROM raw.azure_cost_costs
),
other_currencies AS (
    SELECT DISTINCT BillingCurrency AS currency
    FROM core.costs
    WHERE source <> 'azure_cost' AND BillingCurrency IS NOT NULL
)
SELECT 'azure_cost' AS source, 'costs' AS table_name, record_key, 'PreTaxCost' AS field,
       'amount is not a number' AS problem, cost AS value
FROM daily_rows
WHERE TRY_CAST(cost AS DECIMAL(38, 12)) IS NULL
UNION ALL
SELECT 'azure_cost', 'costs', record_key, 'Currency',
       'currency differs from the rest of core.costs (' || (
           SELECT string_agg(currency, ', ' ORDER BY currency) FROM other_currencies
       ) || '): sums would mix currencies', currency
FROM daily_rows
WHERE EXISTS (SELECT 1 FROM other_currencies)
  AND currency NOT IN (SELECT currency FROM other_currencies)
