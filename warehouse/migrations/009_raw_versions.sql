-- Raw landing becomes append-only: every version of a record lands in raw_versions.<table> and
-- raw.<table> turns into a view of each record's current version. Appending costs the page, not
-- the table; the primary-key index it replaces slowed every page as the table grew. A SQL
-- migration cannot list tables, so each existing raw table is converted, rows kept, the first
-- time landing or staging opens it (warehouse/landing.py, ensure_raw_table).
CREATE SCHEMA IF NOT EXISTS raw_versions;
CREATE SEQUENCE IF NOT EXISTS meta.landing_sequence;
