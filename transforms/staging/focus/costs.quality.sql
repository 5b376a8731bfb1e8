-- FOCUS problems: files that could not be loaded (keyed by the file), CSV lines that are not a
-- line item (keyed file#line N, their text as the value), line items whose mandatory value is
-- missing or did not parse, whose cost is too large once converted or whose charge date is
-- implausible (keyed file#line item, field named), Tags that are not a JSON object (those line
-- items load unallocated, so each distinct value is listed once per file, keyed by its first
-- line, with how many line items carry it), and billing periods left out of an older run folder
-- for a newer one's (keyed folder|provider|account|sub-account|period, the newer folder as the
-- value; see focus_superseded_folders in _macros.sql).
-- The charge end decides the day a cost counts on (whole UTC days or not) and the billing
-- period groups run folders (focus_superseded_folders), so they are checked with the costs.
WITH missing AS (
    UNPIVOT (
        SELECT source_file, line_number,
            (BilledCost IS NULL)::INTEGER AS BilledCost,
            (EffectiveCost IS NULL)::INTEGER AS EffectiveCost,
            (ChargePeriodStart IS NULL)::INTEGER AS ChargePeriodStart,
            (ChargePeriodEnd IS NULL)::INTEGER AS ChargePeriodEnd,
            (BillingPeriodStart IS NULL)::INTEGER AS BillingPeriodStart,
            (BillingPeriodEnd IS NULL)::INTEGER AS BillingPeriodEnd,
            (BillingCurrency IS NULL)::INTEGER AS BillingCurrency
        FROM raw.focus_costs
        WHERE BilledCost IS NULL OR EffectiveCost IS NULL OR ChargePeriodStart IS NULL
            OR ChargePeriodEnd IS NULL OR BillingPeriodStart IS NULL OR BillingPeriodEnd IS NULL
            OR BillingCurrency IS NULL
    ) ON BilledCost, EffectiveCost, ChargePeriodStart, ChargePeriodEnd, BillingPeriodStart,
        BillingPeriodEnd, BillingCurrency
    INTO NAME field VALUE is_missing
),
-- Costs with a configured rate whose converted amount does not fit DECIMAL(38, 12): staging
-- loads them empty (cost_converted, in ../macros.sql).
unconvertible AS (
    UNPIVOT (
        SELECT source_file, line_number, BillingCurrency,
            (cost_converted(BilledCost, rate) IS NULL AND BilledCost IS NOT NULL)::INTEGER
                AS BilledCost,
            (cost_converted(EffectiveCost, rate) IS NULL AND EffectiveCost IS NOT NULL)::INTEGER
                AS EffectiveCost,
            (cost_converted(ListCost, rate) IS NULL AND ListCost IS NOT NULL)::INTEGER
                AS ListCost,
            (cost_converted(ContractedCost, rate) IS NULL AND ContractedCost IS NOT NULL)::INTEGER
                AS ContractedCost
        FROM (
            SELECT line_items.*,
                cost_rate(line_items.BillingCurrency, settings.rate_currencies,
                    settings.rate_values) AS rate
            FROM raw.focus_costs AS line_items
            CROSS JOIN (SELECT * FROM raw.cost_settings LIMIT 1) AS settings
        )
        WHERE rate IS NOT NULL
    ) ON BilledCost, EffectiveCost, ListCost, ContractedCost
    INTO NAME field VALUE overflows
),
implausible_charges AS (
    SELECT source_file, line_number, ChargePeriodStart
    FROM raw.focus_costs
    WHERE focus_implausible_charge(ChargePeriodStart, BillingPeriodEnd)
),
-- Each distinct tag set is parsed once, as staging does. The sets are gathered into one list
-- first: a filter on the parse would be pushed below the DISTINCT and parse every line item's
-- tags (2.9 s instead of 0.03 s for 3M line items with 207 sets).
unreadable_tag_sets AS (
    SELECT unnest(list_filter(list(Tags), lambda tags: focus_tag_map(tags) IS NULL)) AS Tags
    FROM (SELECT DISTINCT Tags FROM raw.focus_costs WHERE Tags IS NOT NULL)
),
unreadable_tags AS (
    SELECT source_file, Tags, min(line_number) AS first_line, count(*) AS line_items
    FROM raw.focus_costs
    JOIN unreadable_tag_sets USING (Tags)
    GROUP BY source_file, Tags
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
SELECT 'focus', 'costs', source_file || '#' || line_number, field,
    'too large to convert from ' || BillingCurrency
        || ' to the reporting currency (beyond 26 integer digits): loads empty',
    NULL
FROM unconvertible
WHERE overflows = 1
UNION ALL
SELECT 'focus', 'costs', source_file || '#' || line_number, 'ChargePeriodStart',
    'implausible charge date (before 2000, or over a year after its billing period ends): '
        || 'loads empty, so the line item adds to no period',
    strftime(ChargePeriodStart AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S')
FROM implausible_charges
UNION ALL
SELECT 'focus', 'costs', source_file || '#' || first_line, 'Tags',
    'not a JSON object of tag keys and values: ' || line_items
        || ' line item(s) with this value load unallocated',
    left(Tags, 200)
FROM unreadable_tags
UNION ALL
SELECT 'focus', 'costs',
    concat_ws('|', folder, coalesce(ProviderName, ''), coalesce(BillingAccountId, ''),
        coalesce(SubAccountId, ''), coalesce(strftime(BillingPeriodStart, '%Y-%m-%d'), '')),
    'BillingPeriodStart',
    'billing period superseded by a later run folder that repeats it, ' || newest_folder
        || ' (files modified ' || strftime(newest_delivered_at, '%Y-%m-%d %H:%M:%S')
        || ' UTC, this folder''s ' || strftime(delivered_at, '%Y-%m-%d %H:%M:%S')
        || ' UTC): this folder''s ' || line_items || ' line item(s) for it are left out'
        || CASE
            WHEN line_items < folder_line_items AND superseded_through IS NULL
                THEN ', those without a charge start (the later run has none that parses; this '
                    || 'folder''s ' || (folder_line_items - line_items) || ' other line item(s) count)'
            WHEN line_items < folder_line_items
                THEN ', those charged up to ' || strftime(
                    superseded_through AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S'
                ) || ' UTC (the later run ends there; this folder''s '
                || (folder_line_items - line_items) || ' later line item(s) count)'
            ELSE ''
        END,
    newest_folder
FROM focus_superseded_folders()
