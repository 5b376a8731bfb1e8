-- A line item's Tags as staging and the quality query read them. FOCUS writes a JSON object;
-- Azure's cost files (and conversions made from them) leave out the enclosing braces
-- ("env": "prod","team": "web"), so text that does not open an object or array is wrapped first.
CREATE OR REPLACE TEMP MACRO focus_tags_text(tags) AS
    CASE WHEN left(ltrim(tags), 1) IN ('{', '[') THEN tags ELSE '{' || tags || '}' END;

-- The tags as a map of key to value text; NULL when they are not a JSON object.
CREATE OR REPLACE TEMP MACRO focus_tag_map(tags) AS
    try_cast(try_cast(focus_tags_text(tags) AS JSON) AS MAP(VARCHAR, VARCHAR));

-- An export that saves every run in a new folder (Azure Cost Management's <date range>/<run id>/,
-- AWS Data Exports without overwrite) repeats the billing period to date in each run folder.
-- For one provider, billing account, sub-account and billing period found in several folders,
-- only the folder delivered last counts: the one whose files carrying it were modified last
-- (raw.focus_files; a file landed before it kept them counts from its landing), the later folder
-- name on a tie. One row per older folder and key, naming
-- the newest; files of one folder (a run's parts) all count, and exports of separate scopes
-- share no key, so they all count.
CREATE OR REPLACE TEMP MACRO focus_superseded_folders() AS TABLE
WITH file_periods AS (
    SELECT source_file, ProviderName, BillingAccountId, SubAccountId, BillingPeriodStart,
        count(*) AS line_items, max(loaded_at) AS last_loaded_at
    FROM raw.focus_costs
    GROUP BY ALL
),
folder_periods AS (
    SELECT parse_dirpath(source_file) AS folder, ProviderName, BillingAccountId, SubAccountId,
        BillingPeriodStart, max(coalesce(files.modified_at, last_loaded_at)) AS delivered_at,
        sum(line_items) AS line_items
    FROM file_periods
    LEFT JOIN raw.focus_files AS files USING (source_file)
    GROUP BY ALL
),
ranked AS (
    SELECT *,
        row_number() OVER latest_first AS recency,
        first_value(folder) OVER latest_first AS newest_folder,
        first_value(delivered_at) OVER latest_first AS newest_delivered_at
    FROM folder_periods
    WINDOW latest_first AS (
        PARTITION BY ProviderName, BillingAccountId, SubAccountId, BillingPeriodStart
        ORDER BY delivered_at DESC, folder DESC
    )
)
SELECT folder, ProviderName, BillingAccountId, SubAccountId, BillingPeriodStart, delivered_at,
    line_items, newest_folder, newest_delivered_at
FROM ranked
WHERE recency > 1;
