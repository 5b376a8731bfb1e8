-- Small SQL functions shared by the staging queries; defined per connection before staging runs.

-- ServiceNow datetimes with sysparm_display_value=false are UTC 'YYYY-MM-DD HH:MM:SS'.
-- Anything else becomes NULL here; the .quality.sql files report it by record number.
CREATE OR REPLACE TEMP MACRO servicenow_time(text) AS
    try_strptime(text, '%Y-%m-%d %H:%M:%S') AT TIME ZONE 'UTC';

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

-- ServiceNow datetime fields of a raw table that are set but cannot be read, by record number.
CREATE OR REPLACE TEMP MACRO servicenow_unparseable_dates(raw_table, fields) AS TABLE
    SELECT
        record_key,
        coalesce(nullif(record ->> '$.number.value', ''), record_key) AS number,
        field,
        'unparseable date' AS problem,
        value
    FROM (
        SELECT
            record_key,
            record,
            field,
            json_extract_string(record, '$.' || field || '.value') AS value
        FROM query_table(raw_table), unnest(fields) AS date_fields(field)
    )
    WHERE value <> '' AND servicenow_time(value) IS NULL;

-- Daily cost records that cannot be summed safely: an amount that is not a number, or a currency
-- other than the one the rest of core.costs is kept in (the FOCUS loader checks its own files).
CREATE OR REPLACE TEMP MACRO daily_cost_problems(
    source_name, raw_table, amount_key, amount_field, currency_field
) AS TABLE
    WITH daily_costs AS (
        SELECT
            record_key,
            json_extract_string(record, amount_key) AS amount,
            upper(json_extract_string(record, 'currency')) AS currency
        FROM query_table(raw_table)
    ),
    other_currencies AS (
        SELECT DISTINCT BillingCurrency AS currency
        FROM core.costs
        WHERE source <> source_name AND BillingCurrency IS NOT NULL
    )
    SELECT source_name AS source, 'costs' AS table_name, record_key, amount_field AS field,
           'amount is not a number' AS problem, amount AS value
    FROM daily_costs
    WHERE TRY_CAST(amount AS DECIMAL(38, 12)) IS NULL
    UNION ALL
    SELECT source_name, 'costs', record_key, currency_field,
           'currency differs from the rest of core.costs (' || (
               SELECT string_agg(currency, ', ' ORDER BY currency) FROM other_currencies
           ) || '): sums would mix currencies', currency
    FROM daily_costs
    WHERE EXISTS (SELECT 1 FROM other_currencies)
      AND currency NOT IN (SELECT currency FROM other_currencies);
