-- Cost Explorer groups that cannot be summed safely: an amount that is not a number, or a currency
-- other than the one the rest of core.costs is kept in.
WITH daily_groups AS (
    SELECT
        record_key,
        record ->> 'billed_cost' AS billed_cost,
        upper(record ->> 'currency') AS currency
    FROM raw.aws_ce_costs
),
other_currencies AS (
    SELECT DISTINCT BillingCurrency AS currency
    FROM core.costs
    WHERE source <> 'aws_ce' AND BillingCurrency IS NOT NULL
)
SELECT 'aws_ce' AS source, 'costs' AS table_name, record_key, 'UnblendedCost' AS field,
       'amount is not a number' AS problem, billed_cost AS value
FROM daily_groups
WHERE TRY_CAST(billed_cost AS DECIMAL(38, 12)) IS NULL
UNION ALL
SELECT 'aws_ce', 'costs', record_key, 'Unit',
       'currency differs from the rest of core.costs (' || (
           SELECT string_agg(currency, ', ' ORDER BY currency) FROM other_currencies
       ) || '): sums would mix currencies', currency
FROM daily_groups
WHERE EXISTS (SELECT 1 FROM other_currencies)
  AND currency NOT IN (SELECT currency FROM other_currencies)
