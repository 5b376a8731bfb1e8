-- A line item's Tags as staging and the quality query read them. FOCUS writes a JSON object;
-- Azure's cost files (and conversions made from them) leave out the enclosing braces
-- ("env": "prod","team": "web"), so text that does not open an object or array is wrapped first.
CREATE OR REPLACE TEMP MACRO focus_tags_text(tags) AS
    CASE WHEN left(ltrim(tags), 1) IN ('{', '[') THEN tags ELSE '{' || tags || '}' END;

-- A JSON object's first value of each key, as text: an object that repeats a key is valid JSON
-- (an export merging two tag sources), but casts to no map. NULL when it is not an object. An
-- empty key, which no JSON path can name, names no owner either: left out.
CREATE OR REPLACE TEMP MACRO focus_first_values(tags_json) AS
    CASE WHEN json_type(tags_json) = 'OBJECT' THEN map_from_entries(list_transform(
        list_filter(list_distinct(json_keys(tags_json)), lambda k: k <> ''),
        lambda k: {'key': k, 'value': tags_json ->> ('$."' || replace(k, '"', '\"') || '"')}
    )) END;

-- The tags as a map of key to value text; NULL when they are not a JSON object.
CREATE OR REPLACE TEMP MACRO focus_tag_map(tags) AS
    coalesce(
        try_cast(try_cast(focus_tags_text(tags) AS JSON) AS MAP(VARCHAR, VARCHAR)),
        focus_first_values(try_cast(focus_tags_text(tags) AS JSON))
    );

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
-- that repeats it: that holds at least half as many line items at the older folder's charge
-- start times up to its own last charge as the older folder has there. The older folder's line
-- items up to that last charge are left out (all of them when the later run reaches as far);
-- those after it still count, so a later run that ends earlier (a correction of part of the
-- period) replaces what it covers and nothing is counted twice. A later run restates the
-- charges it repeats (it may add late usage before the older run's first charge, or drop a
-- line item), while folders that slice a period by date (OCI's FOCUS Reports/<year>/<month>/
-- <day>/) hold new charge times, a late line item or two of an earlier time at most, and
-- exports of separate scopes share no key: they all count, as do the files of one folder (a
-- run's parts). One row per superseded folder and key, naming the latest folder that repeats
-- it, the last charge start time left out (NULL: only line items without one) and how many.
CREATE OR REPLACE TEMP MACRO focus_superseded_folders() AS TABLE
WITH file_charges AS (
    SELECT
        source_file,
        {'ProviderName': ProviderName, 'BillingAccountId': BillingAccountId,
            'SubAccountId': SubAccountId, 'BillingPeriodStart': BillingPeriodStart} AS scope,
        ChargePeriodStart AS charge_start,
        count(*) AS line_items,
        max(loaded_at) AS last_loaded_at
    FROM raw.focus_costs
    GROUP BY ALL
),
folder_periods AS (
    SELECT parse_dirpath(source_file) AS folder, scope,
        max(coalesce(files.modified_at, last_loaded_at)) AS delivered_at,
        sum(line_items) AS line_items,
        max(charge_start) AS last_charge
    FROM file_charges
    LEFT JOIN raw.focus_files AS files USING (source_file)
    GROUP BY ALL
),
-- 1 for the folder delivered last, 2 for the one before, ...
ranked AS (
    SELECT *,
        row_number() OVER (PARTITION BY scope ORDER BY delivered_at DESC, folder DESC) AS recency
    FROM folder_periods
),
-- Each folder with each later folder of its scope (none for a scope delivered once).
later_runs AS (
    SELECT
        older.folder, older.scope, older.delivered_at, older.line_items AS folder_line_items,
        older.last_charge AS older_last_charge,
        newer.folder AS newer_folder, newer.delivered_at AS newer_delivered_at, newer.recency,
        newer.last_charge AS newer_last_charge
    FROM ranked AS older
    JOIN ranked AS newer
        ON newer.scope IS NOT DISTINCT FROM older.scope
        AND newer.recency < older.recency
),
-- Line items per folder and charge time, for the scopes delivered more than once only: a
-- scope delivered once costs no grouping or join.
rerun_charges AS (
    SELECT parse_dirpath(source_file) AS folder, scope, charge_start, sum(line_items) AS line_items
    FROM file_charges
    SEMI JOIN (SELECT DISTINCT scope FROM later_runs) AS rerun
        ON rerun.scope IS NOT DISTINCT FROM file_charges.scope
    GROUP BY ALL
),
-- For each pair: how many of the earlier folder's line items start up to the later one's last
-- charge (or have no start), and how many of the later one's start when those do.
charge_repeats AS (
    SELECT
        later_runs.*,
        sum(older_charges.line_items) AS in_range,
        coalesce(sum(newer_charges.line_items), 0) AS repeated
    FROM later_runs
    JOIN rerun_charges AS older_charges
        ON older_charges.folder = later_runs.folder
        AND older_charges.scope IS NOT DISTINCT FROM later_runs.scope
        AND (older_charges.charge_start IS NULL
            OR older_charges.charge_start <= later_runs.newer_last_charge)
    LEFT JOIN rerun_charges AS newer_charges
        ON newer_charges.folder = later_runs.newer_folder
        AND newer_charges.scope IS NOT DISTINCT FROM later_runs.scope
        AND newer_charges.charge_start IS NOT DISTINCT FROM older_charges.charge_start
    GROUP BY ALL
)
SELECT
    folder, scope.ProviderName, scope.BillingAccountId, scope.SubAccountId,
    scope.BillingPeriodStart, delivered_at, folder_line_items,
    arg_min(newer_folder, recency) AS newest_folder,
    arg_min(newer_delivered_at, recency) AS newest_delivered_at,
    max(newer_last_charge) AS superseded_through,
    -- The line items in range grow with the later run's last charge.
    max(in_range) AS line_items
FROM charge_repeats
-- The later folder repeats the earlier one: at least half of the earlier folder's line items in
-- range start when the later folder's do, and the earlier folder is no mere sliver of the later
-- one up to its own last charge (a day folder holding a late line item of a day whose folder was
-- delivered again afterwards is a different delivery, not an older run of that day).
WHERE repeated * 2 >= in_range
    AND in_range * 2 >= (
        SELECT coalesce(sum(newer_charges.line_items), 0)
        FROM rerun_charges AS newer_charges
        WHERE newer_charges.folder = charge_repeats.newer_folder
            AND newer_charges.scope IS NOT DISTINCT FROM charge_repeats.scope
            AND (newer_charges.charge_start IS NULL
                OR newer_charges.charge_start <= charge_repeats.older_last_charge)
    )
GROUP BY ALL;

-- A file FOCUS_PATHS no longer lists keeps its line items (exports are archived or rotated
-- away), unless it was a part of an export its folder holds again: an export overwritten in
-- place (AWS Data Exports with overwrite, synced with deletions) restates the period in new
-- parts, and a part the restatement no longer needs is deleted; `gzip` replaces a file by its
-- compressed copy with the same modification time. Such a file is left out when files of its
-- own folder still listed and modified no earlier than it repeat it: for its provider,
-- billing account, sub-account and billing period they hold at least half as many line items
-- at its charge start times as it has. A file moved out of an inbox folder keeps counting, as
-- the next day's file holds other charge times (a late line item or two of an earlier time at
-- most). One row per file left out.
-- Only the files of folders holding an unlisted file are grouped, so with none (the usual
-- night) the line items are not grouped at all.
CREATE OR REPLACE TEMP MACRO focus_dropped_files() AS TABLE
WITH candidate_files AS (
    SELECT source_file
    FROM raw.focus_files
    WHERE parse_dirpath(source_file) IN (
        SELECT parse_dirpath(source_file) FROM raw.focus_unlisted_files
    )
),
file_charges AS (
    SELECT
        source_file,
        parse_dirpath(source_file) AS folder,
        {'ProviderName': ProviderName, 'BillingAccountId': BillingAccountId,
            'SubAccountId': SubAccountId, 'BillingPeriodStart': BillingPeriodStart} AS scope,
        ChargePeriodStart AS charge_start,
        count(*) AS line_items
    FROM raw.focus_costs
    SEMI JOIN candidate_files USING (source_file)
    GROUP BY ALL
),
unlisted AS (
    SELECT file_charges.*, files.modified_at
    FROM file_charges
    JOIN raw.focus_files AS files USING (source_file)
    SEMI JOIN raw.focus_unlisted_files USING (source_file)
),
listed AS (
    SELECT file_charges.*, files.modified_at
    FROM file_charges
    JOIN raw.focus_files AS files USING (source_file)
    ANTI JOIN raw.focus_unlisted_files USING (source_file)
),
repeats AS (
    SELECT
        unlisted.source_file,
        unlisted.line_items,
        coalesce(sum(listed.line_items), 0) AS repeated
    FROM unlisted
    LEFT JOIN listed
        ON listed.folder = unlisted.folder
        AND listed.scope IS NOT DISTINCT FROM unlisted.scope
        AND listed.charge_start IS NOT DISTINCT FROM unlisted.charge_start
        AND listed.modified_at >= unlisted.modified_at
    GROUP BY unlisted.source_file, unlisted.scope, unlisted.charge_start, unlisted.line_items
)
SELECT source_file
FROM repeats
GROUP BY source_file
HAVING sum(repeated) * 2 >= sum(line_items);
