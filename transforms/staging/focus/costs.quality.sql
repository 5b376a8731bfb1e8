-- FOCUS problems: files that could not be loaded (keyed by the file), CSV lines that are not a
-- line item (keyed file#line N, their text as the value), line items whose mandatory value is
-- missing or did not parse (keyed file#line item, field named), Tags that are not a JSON
-- object (those line items load unallocated, so each distinct value is listed once per file,
-- keyed by its first line, with how many line items carry it), and billing periods delivered
-- in several folders (keyed provider|account|period).
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
),
-- Each distinct tag set is parsed once, as staging does.
unreadable_tag_sets AS (
    SELECT Tags
    FROM (SELECT DISTINCT Tags FROM raw.focus_costs WHERE Tags IS NOT NULL)
    WHERE focus_tag_map(Tags) IS NULL
),
unreadable_tags AS (
    SELECT source_file, Tags, min(line_number) AS first_line, count(*) AS line_items
    FROM raw.focus_costs
    JOIN unreadable_tag_sets USING (Tags)
    GROUP BY source_file, Tags
),
-- One account's billing period from files in more than one folder: an export that writes each
-- run to a new folder repeats the month to date in every run, and loading them all counts the
-- month once per run. Exports of separate scopes (one per subscription) share no sub-account,
-- so they are not listed.
sub_account_periods AS (
    SELECT DISTINCT ProviderName, BillingAccountId, SubAccountId, BillingPeriodStart,
        parse_dirpath(source_file) AS folder
    FROM (
        SELECT DISTINCT source_file, ProviderName, BillingAccountId, SubAccountId,
            BillingPeriodStart
        FROM raw.focus_costs
    )
),
repeated_periods AS (
    SELECT ProviderName, BillingAccountId, BillingPeriodStart, folders,
        count(*) AS sub_accounts
    FROM (
        SELECT ProviderName, BillingAccountId, SubAccountId, BillingPeriodStart,
            list(folder ORDER BY folder) AS folders
        FROM sub_account_periods
        GROUP BY ALL
        HAVING count(*) > 1
    )
    GROUP BY ALL
)
SELECT 'focus' AS source, 'costs' AS table_name, source_file AS record_key,
    CAST(NULL AS VARCHAR) AS field, problem, CAST(NULL AS VARCHAR) AS value
FROM raw.focus_file_problems
UNION ALL
SELECT 'focus', 'costs', source_file || '#line ' || line, NULL,
    'not a valid CSV line, left out: ' || problem, csv_line
FROM raw.focus_rejected_lines
UNION ALL
SELECT 'focus', 'costs', source_file || '#' || line_number, field,
    'missing or unparseable mandatory value', NULL
FROM missing
WHERE is_missing = 1
UNION ALL
SELECT 'focus', 'costs', source_file || '#' || first_line, 'Tags',
    'not a JSON object of tag keys and values: ' || line_items
        || ' line item(s) with this value load unallocated',
    left(Tags, 200)
FROM unreadable_tags
UNION ALL
SELECT 'focus', 'costs',
    concat_ws('|', ProviderName, BillingAccountId, strftime(BillingPeriodStart, '%Y-%m-%d')),
    'BillingPeriodStart',
    'billing period delivered in ' || len(folders) || ' folders (' || sub_accounts
        || ' sub-account(s)), so counted once per folder: an export that saves each run in a'
        || ' new folder repeats the month; keep only its latest run in FOCUS_PATHS',
    left(array_to_string(folders, ', '), 500)
FROM repeated_periods
