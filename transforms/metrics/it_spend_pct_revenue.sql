-- IT spend inputs (plus cloud costs when configured) over revenue inputs of the same period
-- (costs_by_local_day is defined in _facts_input.sql). Cloud costs count only on the days an
-- it_spend input covers: they arrive daily, the spend spreadsheet when finance closes the month,
-- and a month of cloud costs without its it_spend would pass for the whole IT spend.
WITH spend_inputs AS (
    SELECT 'measure' AS record_table, record_id, first_day AS local_day, last_day AS span_last,
        value AS num, currency, source
    FROM measure_inputs
    WHERE metric_id = 'it_spend' AND dimension = 'all'
),
revenue_inputs AS (
    SELECT 'measure' AS record_table, record_id, first_day AS local_day, last_day AS span_last,
        value AS den, currency, false AS in_numerator, true AS in_denominator, source
    FROM measure_inputs
    WHERE metric_id = 'revenue' AND dimension = 'all'
),
cloud_costs_by_day AS (
    SELECT *
    FROM costs_by_local_day(by_service := true, by_allocation := false)
    WHERE getvariable('include_cloud_costs')
),
-- Amounts in two currencies neither add up nor divide: a spend input whose unit names another
-- currency (an ISO code) than the revenue over its days, or than the cloud costs added to it
-- (the cost KPIs' currency), is left out with the reason, so the period has no value rather
-- than one mixing euros and dollars. An input without a currency unit is taken as the others'.
spend_judged AS (
    SELECT
        s.* EXCLUDE (currency, other_revenue_currencies),
        CASE
            WHEN other_revenue_currencies IS NOT NULL
                THEN format('excluded: it_spend in {}, revenue in {}', s.currency,
                    other_revenue_currencies)
            WHEN s.currency <> getvariable('cost_currency')
                AND EXISTS (
                    SELECT 1
                    FROM cloud_costs_by_day AS c
                    WHERE c.charge_day BETWEEN s.local_day AND s.span_last
                )
                THEN format(
                    'excluded: it_spend in {}, the cloud costs added to it in {} (FOCUS_CURRENCY)',
                    s.currency, getvariable('cost_currency')
                )
        END AS note
    FROM (
        SELECT
            s.*,
            (
                SELECT string_agg(DISTINCT r.currency, ', ' ORDER BY r.currency)
                FROM revenue_inputs AS r
                WHERE r.currency <> s.currency
                    AND r.local_day <= s.span_last AND r.span_last >= s.local_day
            ) AS other_revenue_currencies
        FROM spend_inputs AS s
    ) AS s
),
spend_facts AS (
    SELECT
        * EXCLUDE (note),
        note IS NULL AS in_numerator,
        false AS in_denominator,
        note
    FROM spend_judged
),
cloud_costs AS (
    SELECT
        'cost_group' AS record_table,
        kpi.cost_group(charge_day, ProviderName, ServiceCategory, service, source, cost_kind)
            AS record_id,
        charge_day AS local_day,
        sum(amount) AS num,
        true AS in_numerator,
        false AS in_denominator,
        sum(line_items) AS record_count,
        source
    FROM cloud_costs_by_day
    WHERE EXISTS (
        SELECT 1
        FROM spend_facts
        WHERE spend_facts.in_numerator
            AND charge_day BETWEEN spend_facts.local_day AND spend_facts.span_last
    )
    GROUP BY ALL
)
SELECT * FROM spend_facts
UNION ALL BY NAME
SELECT * FROM cloud_costs
UNION ALL BY NAME
SELECT * EXCLUDE (currency) FROM revenue_inputs
