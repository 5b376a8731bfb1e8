-- Small SQL functions shared by the staging queries; defined per connection before staging runs.

-- A time before 2000 is a placeholder, not one a ticket carries: the default date (1970-01-01,
-- 1900-01-01) that an import, a script or a migrated tool leaves in a field. Staging loads it
-- empty and the quality queries list it: one such ticket would otherwise open decades of empty
-- KPI periods and move every baseline (FOCUS charges are held to the same bound).
CREATE OR REPLACE TEMP MACRO placeholder_time(t) AS
    isfinite(t) AND t < TIMESTAMPTZ '2000-01-01 00:00:00+00';

-- A time a ticket can carry: NULL for a placeholder and for 'infinity', which a parse reads
-- as a time no period holds and no duration can be taken from.
CREATE OR REPLACE TEMP MACRO real_time(t) AS
    CASE WHEN isfinite(t) AND NOT placeholder_time(t) THEN t END;

-- What a quality query says of a time that is set but loads empty, given the time as written
-- (NULL: it cannot be read at all) and what the source calls it ('date', 'time').
CREATE OR REPLACE TEMP MACRO time_problem(as_written, what) AS
    CASE WHEN placeholder_time(as_written)
        THEN what || ' before 2000 (a placeholder): left empty'
        ELSE 'unparseable ' || what
    END;

-- ServiceNow datetimes with sysparm_display_value=false are UTC 'YYYY-MM-DD HH:MM:SS'; a
-- duration is written the same way, as the time that long after 1970-01-01 00:00:00.
CREATE OR REPLACE TEMP MACRO servicenow_time_as_written(text) AS
    try_strptime(text, '%Y-%m-%d %H:%M:%S') AT TIME ZONE 'UTC';

-- A ServiceNow datetime; one that cannot be read or is a placeholder becomes NULL here, and the
-- .quality.sql files report it by record number.
CREATE OR REPLACE TEMP MACRO servicenow_time(text) AS
    real_time(servicenow_time_as_written(text));

-- Whether a ServiceNow datetime holds a time at all: some instances answer an empty one as
-- '0000-00-00 00:00:00' rather than '' (servicenow_time reads both as NULL), which is no
-- unparseable date but no time, as '' is.
CREATE OR REPLACE TEMP MACRO servicenow_date_set(text) AS
    coalesce(text, '') NOT IN ('', '0000-00-00 00:00:00');

-- An ISO 8601 instant (Freshservice, PagerDuty, survey exports); anything else (and a time
-- real_time refuses) is NULL, which the quality queries report by record.
CREATE OR REPLACE TEMP MACRO instant(text) AS
    real_time(try_cast(text AS TIMESTAMPTZ));

-- A service's, group's or allocation tag's name by its words alone: people type names with a
-- stray space, tab or line break before, after or inside them ("Email ", "Service  Desk"), and
-- one service must stay one across sources. Runs of white space (Unicode spaces included) read
-- as one space; a name of white space alone is no name (NULL). Invisible format characters
-- that copy-paste and spreadsheet exports leave in names (a zero-width space, a byte-order mark,
-- a soft hyphen: Unicode category Cf) are dropped, and an accent typed as a separate mark reads
-- as the accented letter (NFC), so "Email\u200b" and "Café" typed either way are one name.
CREATE OR REPLACE TEMP MACRO display_name(name) AS
    nullif(trim(regexp_replace(
        nfc_normalize(regexp_replace(name, '\p{Cf}', '', 'g')), '[\s\p{Z}]+', ' ', 'g'
    )), '');

-- Cost APIs name services but give no FOCUS ServiceCategory: derive it from well-known names.
CREATE OR REPLACE TEMP MACRO cloud_service_category(service_name) AS
    CASE
        WHEN regexp_matches(lower(service_name),
            'compute|virtual machine|lambda|functions|container|kubernetes|app service')
            THEN 'Compute'
        WHEN regexp_matches(lower(service_name), 'storage|s3|backup|glacier') THEN 'Storage'
        WHEN regexp_matches(lower(service_name), 'database|sql|rds|dynamodb|cosmos')
            THEN 'Databases'
        WHEN regexp_matches(lower(service_name),
            'bandwidth|network|cloudfront|load balanc|data transfer|vpc|dns')
            THEN 'Networking'
        WHEN regexp_matches(lower(service_name), 'active directory|entra|identity|cognito')
            THEN 'Identity'
        WHEN regexp_matches(lower(service_name), 'monitor|cloudwatch|cloudtrail|log analytics')
            THEN 'Management and Governance'
        ELSE 'Other'
    END;

-- The `fields` of every record of a ServiceNow raw table, one row per record and field, with
-- the record's number: what the quality queries below check.
CREATE OR REPLACE TEMP MACRO servicenow_field_values(raw_table, fields) AS TABLE
    SELECT
        record_key,
        coalesce(nullif(record ->> '$.number.value', ''), record_key) AS number,
        field,
        json_extract_string(record, '$.' || field || '.value') AS value
    FROM query_table(raw_table), unnest(fields) AS named_fields(field);

-- ServiceNow datetime fields of a raw table that are set but cannot be read, by record number.
CREATE OR REPLACE TEMP MACRO servicenow_unparseable_dates(raw_table, fields) AS TABLE
    SELECT
        record_key, number, field,
        time_problem(servicenow_time_as_written(value), 'date') AS problem,
        value
    FROM servicenow_field_values(raw_table, fields)
    WHERE servicenow_date_set(value) AND servicenow_time(value) IS NULL;

-- ServiceNow true/false fields of a raw table that are set but neither (staging leaves them
-- unknown), by record number.
CREATE OR REPLACE TEMP MACRO servicenow_unreadable_flags(raw_table, fields) AS TABLE
    SELECT record_key, number, field, 'not true or false (left unknown)' AS problem, value
    FROM servicenow_field_values(raw_table, fields)
    WHERE coalesce(value, '') <> '' AND try_cast(value AS BOOLEAN) IS NULL;

-- The configured rate from a cost's currency to the reporting one (raw.cost_settings, which
-- every cost source's load stores from FOCUS_CURRENCY and FOCUS_EXCHANGE_RATES); NULL: none.
CREATE OR REPLACE TEMP MACRO cost_rate(currency, rate_currencies, rate_values) AS
    rate_values[list_position(rate_currencies, upper(trim(currency)))];

-- A cost in the reporting currency. NULL when the converted amount no longer fits DECIMAL(38,
-- 12) (the quality queries list it): one absurd value must not stop staging, and every night's
-- run after it.
CREATE OR REPLACE TEMP MACRO cost_converted(cost, rate) AS
    CASE WHEN rate IS NULL THEN cost ELSE try_cast(cost * rate AS DECIMAL(38, 12)) END;

-- Daily cost amounts that cannot be summed: not a number, or no longer fitting DECIMAL(38, 12)
-- once converted (cost_converted loads such an amount empty).
CREATE OR REPLACE TEMP MACRO daily_amount_problems(
    source_name, raw_table, amount_key, amount_field
) AS TABLE
    WITH amounts AS (
        SELECT
            record_key,
            json_extract_string(record, amount_key) AS amount,
            cost_rate(
                json_extract_string(record, 'currency'),
                settings.rate_currencies,
                settings.rate_values
            ) AS rate
        FROM query_table(raw_table)
        LEFT JOIN (SELECT * FROM raw.cost_settings LIMIT 1) AS settings ON true
        -- A record landed before its connector read this amount has no such field: not a problem.
        WHERE json_exists(record, '$.' || amount_key)
    )
    SELECT
        source_name AS source,
        'costs' AS table_name,
        record_key,
        amount_field AS field,
        CASE
            WHEN TRY_CAST(amount AS DECIMAL(38, 12)) IS NULL THEN 'amount is not a number'
            ELSE 'amount does not fit DECIMAL(38, 12) once converted at ' || rate
        END AS problem,
        amount AS value
    FROM amounts
    WHERE cost_converted(TRY_CAST(amount AS DECIMAL(38, 12)), rate) IS NULL;

-- Daily cost records that cannot be summed safely: an amount daily_amount_problems lists, or a
-- currency (after conversion) other than the one the rest of core.costs is kept in; with no other
-- costs, a currency other than the source's most used one (an account billing in several
-- currencies).
CREATE OR REPLACE TEMP MACRO daily_cost_problems(
    source_name, raw_table, amount_key, amount_field, currency_field
) AS TABLE
    WITH settings AS (
        SELECT * FROM raw.cost_settings LIMIT 1
    ),
    daily_records AS (
        SELECT
            record_key,
            upper(json_extract_string(record, 'currency')) AS billed_currency,
            cost_rate(billed_currency, settings.rate_currencies, settings.rate_values) AS rate,
            settings.reporting_currency
        FROM query_table(raw_table)
        LEFT JOIN settings ON true
    ),
    daily_costs AS (
        SELECT
            record_key,
            CASE WHEN rate IS NULL THEN billed_currency ELSE reporting_currency END AS currency
        FROM daily_records
    ),
    -- The other sources' currencies as their next staging will keep them: after a rate is added,
    -- a source staged later in the run still holds the currency it converts.
    other_currencies AS (
        SELECT DISTINCT
            CASE
                WHEN cost_rate(costs.BillingCurrency, settings.rate_currencies, settings.rate_values)
                    IS NULL THEN costs.BillingCurrency
                ELSE settings.reporting_currency
            END AS currency
        FROM core.costs AS costs
        LEFT JOIN settings ON true
        WHERE costs.source <> source_name AND costs.BillingCurrency IS NOT NULL
    ),
    main_currency AS (
        SELECT arg_max(currency, (records, currency)) AS currency
        FROM (
            SELECT currency, count(*) AS records
            FROM daily_costs
            WHERE currency IS NOT NULL
            GROUP BY currency
        )
    )
    SELECT * FROM daily_amount_problems(source_name, raw_table, amount_key, amount_field)
    UNION ALL
    SELECT source_name, 'costs', record_key, currency_field,
           'currency differs from the rest of core.costs (' || (
               SELECT string_agg(currency, ', ' ORDER BY currency) FROM other_currencies
           ) || '): sums would mix currencies', currency
    FROM daily_costs
    WHERE EXISTS (SELECT 1 FROM other_currencies)
      AND currency NOT IN (SELECT currency FROM other_currencies)
    UNION ALL
    SELECT source_name, 'costs', record_key, currency_field,
           'currency differs from the rest of ' || source_name || ' (' || main_currency.currency
               || '): sums would mix currencies', daily_costs.currency
    FROM daily_costs, main_currency
    WHERE NOT EXISTS (SELECT 1 FROM other_currencies)
      AND daily_costs.currency <> main_currency.currency;

-- Jira Cloud datetimes carry the account's offset without a colon
-- ('2025-06-01T21:00:00.000+0900') and become UTC instants.
CREATE OR REPLACE TEMP MACRO jira_time_as_written(text) AS
    try_strptime(text, '%Y-%m-%dT%H:%M:%S.%g%z');

-- A Jira datetime; one that cannot be read or is a placeholder becomes NULL, which
-- jira_unparseable_dates reports by issue key.
CREATE OR REPLACE TEMP MACRO jira_time(text) AS
    real_time(jira_time_as_written(text));

-- A Jira SLA time's epochMillis as an instant; NULL when it is no whole number ('1.5' would
-- cast to 2) or lies outside the years 1 to 9999 (a time in micro- or nanoseconds), which no
-- timestamp holds: one such value must not stop staging.
CREATE OR REPLACE TEMP MACRO jira_millis_as_written(text) AS
    CASE WHEN regexp_full_match(trim(text), '-?[0-9]+')
        AND try_cast(text AS BIGINT) BETWEEN -62135596800000 AND 253402300799999
        THEN to_timestamp(try_cast(text AS BIGINT) / 1000.0) END;

-- ... and NULL for a placeholder too (0: 1970-01-01); sla_records.quality.sql lists both.
CREATE OR REPLACE TEMP MACRO jira_millis(text) AS
    real_time(jira_millis_as_written(text));

-- A JSON value's elements when it is an array; an object, text or null has none (unnest gives
-- no row), where a cast to JSON[] would fail staging for every record.
CREATE OR REPLACE TEMP MACRO json_elements(value) AS
    CASE WHEN json_type(value) = 'ARRAY' THEN CAST(value AS JSON[]) END;

-- A priority's name -> 1 critical .. 5: a level's word (Jira's default scheme and common custom
-- ones), or a level number with an optional prefix and label, as accounts rename their levels
-- ('P1', 'SEV-2', 'Sev 3', '1 - Critical', 'P2 - High'). NULL when the name says neither.
CREATE OR REPLACE TEMP MACRO priority_level(name) AS
    CASE
        WHEN lower(trim(name)) IN ('highest', 'critical', 'blocker') THEN 1
        WHEN lower(trim(name)) IN ('high', 'major') THEN 2
        WHEN lower(trim(name)) = 'medium' THEN 3
        WHEN lower(trim(name)) IN ('low', 'minor') THEN 4
        WHEN lower(trim(name)) IN ('lowest', 'trivial') THEN 5
        ELSE try_cast(nullif(regexp_extract(
            lower(trim(name)), '^(?:priority|severity|sev|p|s)?[ _-]*([1-5])(?:[^0-9]|$)', 1
        ), '') AS INTEGER)
    END;

-- Resolutions (lower case) that decline an incident's or request's work: done, but canceled.
CREATE OR REPLACE TEMP MACRO jira_declining_resolutions() AS TABLE
    SELECT * FROM (
        VALUES ('won''t do'), ('declined'), ('duplicate'), ('cannot reproduce'), ('canceled'),
               ('cancelled')
    ) AS resolutions(resolution_name);

-- Issue dates of a raw Jira table that are set but cannot be read, by issue key.
CREATE OR REPLACE TEMP MACRO jira_unparseable_dates(raw_table) AS TABLE
    SELECT number, field, time_problem(jira_time_as_written(value), 'date') AS problem, value
    FROM (
        SELECT
            coalesce(nullif(record ->> '$.key', ''), record_key) AS number,
            date_fields.field,
            record ->> ('$.fields.' || date_fields.field) AS value
        FROM query_table(raw_table),
            unnest(['created', 'updated', 'resolutiondate']) AS date_fields(field)
    )
    WHERE value IS NOT NULL AND jira_time(value) IS NULL;

-- Freshservice priority codes 1 Low .. 4 Urgent, reversed onto 1 critical .. 5.
CREATE OR REPLACE TEMP MACRO freshservice_priorities() AS TABLE
    SELECT * FROM (VALUES ('4', 1), ('3', 2), ('2', 3), ('1', 4))
        AS priorities(priority_code, priority);

-- Freshservice ticket source codes -> channel.
CREATE OR REPLACE TEMP MACRO freshservice_channels() AS TABLE
    SELECT * FROM (
        VALUES ('1', 'email'), ('2', 'portal'), ('3', 'phone'), ('4', 'chat'), ('5', 'portal'),
               ('6', 'chat'), ('7', 'other'), ('8', 'monitoring'), ('9', 'walk_in'),
               ('10', 'chat')
    ) AS channels(source_code, channel);

-- Freshservice time fields (UTC with a Z; paths below the record, e.g. 'stats.resolved_at') of
-- a raw table that are set but cannot be read, by record id.
CREATE OR REPLACE TEMP MACRO freshservice_unparseable_times(raw_table, fields) AS TABLE
    SELECT number, field, time_problem(try_cast(value AS TIMESTAMPTZ), 'time') AS problem, value
    FROM (
        SELECT record_key AS number, time_fields.field,
            record ->> ('$.' || time_fields.field) AS value
        FROM query_table(raw_table), unnest(fields) AS time_fields(field)
    )
    WHERE value IS NOT NULL AND instant(value) IS NULL;
