-- ServiceNow raw tables exist from the start, so staging reads an empty table (not a missing
-- one) when an instance has no rows in a table yet, e.g. no outages recorded.
-- Same shape as warehouse/landing.py ensure_raw_table.
CREATE TABLE IF NOT EXISTS raw.servicenow_incident (
    record_key VARCHAR PRIMARY KEY, record_version VARCHAR NOT NULL, record JSON NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL, run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS raw.servicenow_change_request (
    record_key VARCHAR PRIMARY KEY, record_version VARCHAR NOT NULL, record JSON NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL, run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS raw.servicenow_sc_req_item (
    record_key VARCHAR PRIMARY KEY, record_version VARCHAR NOT NULL, record JSON NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL, run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS raw.servicenow_task_sla (
    record_key VARCHAR PRIMARY KEY, record_version VARCHAR NOT NULL, record JSON NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL, run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS raw.servicenow_cmdb_ci_outage (
    record_key VARCHAR PRIMARY KEY, record_version VARCHAR NOT NULL, record JSON NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL, run_id VARCHAR
);
