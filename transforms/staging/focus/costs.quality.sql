-- FOCUS problems: files that could not be loaded (keyed by the file), and line items whose
-- mandatory value is missing or did not parse (keyed file#line, field named).
WITH missing AS (
    UNPIVOT (
        SELECT source_file, line_number,
            (BilledCost IS NULL)::INTEGER AS BilledCost,
            (EffectiveCost IS NULL)::INTEGER AS EffectiveCost,
            (ChargePeriodStart IS NULL)::INTEGER AS ChargePeriodStart,
            (BillingCurrency IS NULL)::INTEGER AS BillingCurrency
        FROM raw.focus_costs
    ) ON BilledCost, EffectiveCost, ChargePeriodStart, BillingCurrency
    INTO NAME field VALUE is_missing
)
SELECT 'focus' AS source, 'costs' AS table_name, source_file AS record_key,
    CAST(NULL AS VARCHAR) AS field, problem, CAST(NULL AS VARCHAR) AS value
FROM raw.focus_file_problems
UNION ALL
SELECT 'focus', 'costs', source_file || '#' || line_number, field,
    'missing or unparseable mandatory value', NULL
FROM missing
WHERE is_missing = 1
