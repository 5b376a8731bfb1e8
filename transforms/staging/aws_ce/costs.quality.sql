-- Cost Explorer groups that cannot be summed safely (daily_cost_problems: ../macros.sql).
SELECT *
FROM daily_cost_problems('aws_ce', 'raw.aws_ce_costs', 'billed_cost', 'UnblendedCost', 'Unit')
