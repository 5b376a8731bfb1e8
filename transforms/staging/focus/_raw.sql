-- FOCUS files land here with DuckDB, one row per line item keyed by (source_file, line_number):
-- the file's values cast to the types core.costs stores (a value that does not cast is NULL and
-- is listed by costs.quality.sql). A file is its own record, so it is not repeated as JSON.
CREATE TABLE IF NOT EXISTS raw.focus_costs (
    source_file VARCHAR NOT NULL,
    line_number BIGINT NOT NULL,
    BilledCost DECIMAL(38, 12),
    EffectiveCost DECIMAL(38, 12),
    ListCost DECIMAL(38, 12),
    ContractedCost DECIMAL(38, 12),
    BillingPeriodStart TIMESTAMPTZ,
    BillingPeriodEnd TIMESTAMPTZ,
    ChargePeriodStart TIMESTAMPTZ,
    ChargePeriodEnd TIMESTAMPTZ,
    BillingCurrency VARCHAR,
    BillingAccountId VARCHAR,
    ChargeCategory VARCHAR,
    ServiceCategory VARCHAR,
    ServiceName VARCHAR,
    ProviderName VARCHAR,
    PublisherName VARCHAR,
    InvoiceIssuerName VARCHAR,
    BillingAccountName VARCHAR,
    ChargeClass VARCHAR,
    ChargeDescription VARCHAR,
    SubAccountId VARCHAR,
    SubAccountName VARCHAR,
    RegionId VARCHAR,
    RegionName VARCHAR,
    ResourceId VARCHAR,
    ResourceName VARCHAR,
    ResourceType VARCHAR,
    SkuId VARCHAR,
    PricingQuantity DOUBLE,
    PricingUnit VARCHAR,
    ConsumedQuantity DOUBLE,
    ConsumedUnit VARCHAR,
    Tags VARCHAR,
    loaded_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
);

-- Each landed file's modification time when it landed: which run folder of an export was
-- delivered last, so staging counts a billing period repeated in several run folders once.
CREATE TABLE IF NOT EXISTS raw.focus_files (
    source_file VARCHAR PRIMARY KEY,
    modified_at TIMESTAMPTZ NOT NULL,
    landed_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
);

-- Landed files FOCUS_PATHS did not list at the last load (deleted, archived or rotated away):
-- their line items count unless later files of their folder repeat them (focus_dropped_files).
CREATE TABLE IF NOT EXISTS raw.focus_unlisted_files (
    source_file VARCHAR PRIMARY KEY
);

-- Files that could not be read (not FOCUS, unreadable, mixing currencies), until they load.
CREATE TABLE IF NOT EXISTS raw.focus_file_problems (
    source_file VARCHAR PRIMARY KEY,
    problem VARCHAR NOT NULL,
    noted_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
);

-- The allocation settings of the last load (FOCUS_TAG_*), which staging applies to every file's
-- line items. The currency settings every cost source shares are in raw.cost_settings.
CREATE TABLE IF NOT EXISTS raw.focus_settings (
    cost_centre_keys VARCHAR[] NOT NULL,
    service_keys VARCHAR[] NOT NULL,
    application_keys VARCHAR[] NOT NULL
);

-- CSV lines that could not be read as a line item (the file's other lines land), until the file
-- loads again; `line` counts the file's physical lines, the header being line 1.
CREATE TABLE IF NOT EXISTS raw.focus_rejected_lines (
    source_file VARCHAR NOT NULL,
    line BIGINT NOT NULL,
    problem VARCHAR NOT NULL,
    csv_line VARCHAR,
    run_id VARCHAR
);
