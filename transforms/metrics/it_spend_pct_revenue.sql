-- IT spend inputs (plus cloud costs when configured) over revenue inputs of the same period
-- (costs_by_local_day is defined in _facts_input.sql). Cloud costs count only on the days an
-- it_spend input covers: they arrive daily, the spend spreadsheet when finance closes the month,
-- and a month of cloud costs without its it_spend would pass for the whole IT spend.
WITH spend_inputs AS (
    SELECT 'measure' AS record_table, record_id, first_day AS local_day, last_day AS span_last,
        value AS num, true AS in_numerator, false AS in_denominator, source
    FROM measure_inputs
    WHERE metric_id = 'it_spend' AND dimension = 'all'
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
    FROM costs_by_local_day(by_service := true, by_allocation := false)
    WHERE getvariable('include_cloud_costs')
        AND EXISTS (
            SELECT 1
            FROM spend_inputs
            WHERE charge_day BETWEEN spend_inputs.local_day
                AND coalesce(spend_inputs.span_last, spend_inputs.local_day)
        )
    GROUP BY ALL
),
revenue_inputs AS (
    SELECT 'measure' AS record_table, record_id, first_day AS local_day, last_day AS span_last,
        value AS den, false AS in_numerator, true AS in_denominator, source
    FROM measure_inputs
    WHERE metric_id = 'revenue' AND dimension = 'all'
)
SELECT * FROM spend_inputs
UNION ALL BY NAME
SELECT * FROM cloud_costs
UNION ALL BY NAME
SELECT * FROM revenue_inputs
