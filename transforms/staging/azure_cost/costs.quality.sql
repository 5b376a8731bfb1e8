-- Cost Management rows that cannot be summed safely (daily_cost_problems: ../macros.sql).
SELECT *
FROM daily_cost_problems('azure_cost', 'raw.azure_cost_costs', 'cost', 'PreTaxCost', 'Currency')
