-- Cost line items in another currency than the one the cost KPIs sum (kpi.in_cost_currency), as
-- data-quality problems of the cost facts: one row per source and currency, with how many line
-- items were left out and what they bill, so the amount missing from spend is plain.
SELECT
    source,
    'metric_facts' AS table_name,
    BillingCurrency AS record_key,
    'BillingCurrency' AS field,
    format(
        '{} cost line item(s) in {} (BilledCost {:.2f}, EffectiveCost {:.2f}) left out of the cost KPIs, '
            || 'which sum {}: {}',
        count(*),
        BillingCurrency,
        coalesce(CAST(sum(BilledCost) AS DOUBLE), 0),
        coalesce(CAST(sum(EffectiveCost) AS DOUBLE), 0),
        getvariable('cost_currency'),
        format(
            'set FOCUS_CURRENCY={} and a rate for {} in FOCUS_EXCHANGE_RATES (e.g. {}=1.08) '
                || 'to convert them',
            getvariable('cost_currency'), BillingCurrency, BillingCurrency
        )
    ) AS problem,
    BillingCurrency AS value,
    getvariable('computed_at') AS detected_at
FROM core.costs
WHERE NOT kpi.in_cost_currency(BillingCurrency, getvariable('cost_currency'))
GROUP BY source, BillingCurrency
ORDER BY source, record_key
