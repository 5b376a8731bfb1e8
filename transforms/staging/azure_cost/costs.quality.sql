-- Cost Management rows that cannot be summed safely (daily_cost_problems: ../macros.sql), and
-- AmortizedCost amounts (EffectiveCost, the cost KPIs' default column) that cannot be summed.
SELECT *
FROM daily_cost_problems('azure_cost', 'raw.azure_cost_costs', 'cost', 'PreTaxCost', 'Currency')
UNION ALL
SELECT *
FROM daily_amount_problems('azure_cost', 'raw.azure_cost_costs', 'amortized_cost', 'AmortizedCost')
