-- The reporting currency and exchange rates (FOCUS_CURRENCY, FOCUS_EXCHANGE_RATES) move from the
-- FOCUS settings to a table of their own, which every cost source's load writes and the staging
-- of every cost source converts with: AWS and Azure amounts convert like FOCUS line items. The
-- next load of any cost source stores the settings again; until then nothing is converted.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE raw.cost_settings (
    reporting_currency VARCHAR,
    rate_currencies    VARCHAR[] NOT NULL,
    rate_values        DOUBLE[] NOT NULL
);
ALTER TABLE IF EXISTS raw.focus_settings DROP COLUMN IF EXISTS reporting_currency;
ALTER TABLE IF EXISTS raw.focus_settings DROP COLUMN IF EXISTS rate_currencies;
ALTER TABLE IF EXISTS raw.focus_settings DROP COLUMN IF EXISTS rate_values;
