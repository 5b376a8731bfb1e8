-- The currency the cost KPIs sum: the reporting currency FOCUS_CURRENCY names, as the last load
-- of a cost source stored it (costs with a rate are converted to it in staging), else the
-- currency of most cost line items, the first in alphabetical order on a tie. NULL when no cost
-- line has a currency.
SELECT coalesce(
    (SELECT upper(trim(reporting_currency)) FROM raw.cost_settings LIMIT 1),
    (
        SELECT BillingCurrency AS currency
        FROM core.costs
        WHERE BillingCurrency IS NOT NULL
        GROUP BY ALL
        ORDER BY count(*) DESC, currency
        LIMIT 1
    )
)
