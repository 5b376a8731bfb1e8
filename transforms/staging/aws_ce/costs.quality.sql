-- Cost Explorer groups that cannot be summed safely (daily_cost_problems: ../macros.sql), and
-- AmortizedCost amounts (EffectiveCost, the cost KPIs' default column) that cannot be summed.
SELECT *
FROM daily_cost_problems('aws_ce', 'raw.aws_ce_costs', 'billed_cost', 'UnblendedCost', 'Unit')
UNION ALL
SELECT *
FROM daily_amount_problems('aws_ce', 'raw.aws_ce_costs', 'effective_cost', 'AmortizedCost')
