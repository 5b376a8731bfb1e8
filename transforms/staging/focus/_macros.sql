-- A line item's Tags as staging and the quality query read them. FOCUS writes a JSON object;
-- Azure's cost files (and conversions made from them) leave out the enclosing braces
-- ("env": "prod","team": "web"), so text that does not open an object or array is wrapped first.
CREATE OR REPLACE TEMP MACRO focus_tags_text(tags) AS
    CASE WHEN left(ltrim(tags), 1) IN ('{', '[') THEN tags ELSE '{' || tags || '}' END;

-- The tags as a map of key to value text; NULL when they are not a JSON object.
CREATE OR REPLACE TEMP MACRO focus_tag_map(tags) AS
    try_cast(try_cast(focus_tags_text(tags) AS JSON) AS MAP(VARCHAR, VARCHAR));

-- The configured rate from a line item's currency to the reporting one; NULL: none configured.
CREATE OR REPLACE TEMP MACRO focus_rate(currency, rate_currencies, rate_values) AS
    rate_values[list_position(rate_currencies, upper(trim(currency)))];

-- A cost in the reporting currency. NULL when the converted amount no longer fits DECIMAL(38,
-- 12) (costs.quality.sql lists it): one absurd value must not stop staging, and every night's
-- run after it.
CREATE OR REPLACE TEMP MACRO focus_converted(cost, rate) AS
    CASE WHEN rate IS NULL THEN cost ELSE try_cast(cost * rate AS DECIMAL(38, 12)) END;

-- A charge start no real cost carries: before 2000 (a default date such as 0001-01-01) or more
-- than a year after its billing period ends. Staging loads it empty and costs.quality.sql lists
-- it: one such line item would otherwise open decades of empty KPI periods and move baselines.
-- (A correction may charge an earlier billing period, so the bound below is loose.)
CREATE OR REPLACE TEMP MACRO focus_implausible_charge(charge_start, billing_end) AS
    charge_start < TIMESTAMPTZ '2000-01-01 00:00:00+00'
    OR charge_start > billing_end + INTERVAL 1 YEAR;

-- An export that saves every run in a new folder (Azure Cost Management's <date range>/<run id>/,
-- AWS Data Exports without overwrite) repeats the billing period to date in each run folder.
-- For one provider, billing account, sub-account and billing period, a folder is superseded by
-- a folder delivered later (its files carrying the period modified later, per raw.focus_files;
-- a file landed before it kept them counts from its landing; the later folder name on a tie)
-- that repeats it: whose charges start at the same time and reach at least as far. Only the
-- folders no later one repeats count. Folders that slice a period by date (OCI's FOCUS
-- Reports/<year>/<month>/<day>/) start at different times, and exports of separate scopes
-- share no key, so they all count; files of one folder (a run's parts) all count.
-- One row per superseded folder and key, naming the latest folder that repeats it.
CREATE OR REPLACE TEMP MACRO focus_superseded_folders() AS TABLE
WITH file_periods AS (
    SELECT source_file, ProviderName, BillingAccountId, SubAccountId, BillingPeriodStart,
        count(*) AS line_items, min(ChargePeriodStart) AS first_charge,
        max(ChargePeriodStart) AS last_charge, max(loaded_at) AS last_loaded_at
    FROM raw.focus_costs
    GROUP BY ALL
),
folder_periods AS (
    SELECT parse_dirpath(source_file) AS folder, ProviderName, BillingAccountId, SubAccountId,
        BillingPeriodStart, max(coalesce(files.modified_at, last_loaded_at)) AS delivered_at,
        sum(line_items) AS line_items, min(first_charge) AS first_charge,
        max(last_charge) AS last_charge
    FROM file_periods
    LEFT JOIN raw.focus_files AS files USING (source_file)
    GROUP BY ALL
),
-- 1 for the folder delivered last, 2 for the one before, ...
ranked AS (
    SELECT *,
        row_number() OVER (
            PARTITION BY ProviderName, BillingAccountId, SubAccountId, BillingPeriodStart
            ORDER BY delivered_at DESC, folder DESC
        ) AS recency
    FROM folder_periods
)
SELECT older.folder, older.ProviderName, older.BillingAccountId, older.SubAccountId,
    older.BillingPeriodStart, older.delivered_at, older.line_items,
    arg_min(newer.folder, newer.recency) AS newest_folder,
    arg_min(newer.delivered_at, newer.recency) AS newest_delivered_at
FROM ranked AS older
JOIN ranked AS newer
    ON newer.ProviderName IS NOT DISTINCT FROM older.ProviderName
    AND newer.BillingAccountId IS NOT DISTINCT FROM older.BillingAccountId
    AND newer.SubAccountId IS NOT DISTINCT FROM older.SubAccountId
    AND newer.BillingPeriodStart IS NOT DISTINCT FROM older.BillingPeriodStart
    AND newer.recency < older.recency
    AND newer.first_charge IS NOT DISTINCT FROM older.first_charge
    AND (older.last_charge IS NULL OR newer.last_charge >= older.last_charge)
GROUP BY ALL;
