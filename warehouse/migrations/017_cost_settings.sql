-- The reporting currency and exchange rates (FOCUS_CURRENCY, FOCUS_EXCHANGE_RATES) move from the
-- FOCUS settings to a table of their own, which every cost source's load writes and the staging
-- of every cost source converts with: AWS and Azure amounts convert like FOCUS line items. The
-- settings the last FOCUS load stored carry over, so staging and the KPI step convert and sum as
-- before until a cost source loads again.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE raw.cost_settings (
    reporting_currency VARCHAR,
    rate_currencies    VARCHAR[] NOT NULL,
    rate_values        DOUBLE[] NOT NULL
);
-- (A warehouse that never loaded FOCUS gets the table empty, as the FOCUS load would create it.)
CREATE TABLE IF NOT EXISTS raw.focus_settings (
    cost_centre_keys VARCHAR[] NOT NULL,
    service_keys VARCHAR[] NOT NULL,
    application_keys VARCHAR[] NOT NULL,
    reporting_currency VARCHAR,
    rate_currencies VARCHAR[] NOT NULL,
    rate_values DOUBLE[] NOT NULL
);
INSERT INTO raw.cost_settings
SELECT reporting_currency, rate_currencies, rate_values
FROM raw.focus_settings
LIMIT 1;
ALTER TABLE raw.focus_settings DROP COLUMN reporting_currency;
ALTER TABLE raw.focus_settings DROP COLUMN rate_currencies;
ALTER TABLE raw.focus_settings DROP COLUMN rate_values;
