-- Cost Explorer groups that cannot be summed safely (daily_cost_problems: ../macros.sql), and
-- AmortizedCost amounts (EffectiveCost, the cost KPIs' default column) that are not a number.
SELECT *
FROM daily_cost_problems('aws_ce', 'raw.aws_ce_costs', 'billed_cost', 'UnblendedCost', 'Unit')
UNION ALL
SELECT 'aws_ce' AS source, 'costs' AS table_name, record_key, 'AmortizedCost' AS field,
    'amount is not a number' AS problem, record ->> 'effective_cost' AS value
FROM raw.aws_ce_costs
WHERE TRY_CAST(record ->> 'effective_cost' AS DECIMAL(38, 12)) IS NULL
