-- What a staging query depends on besides its tables: the time zone text timestamps are read in
-- (and TIMESTAMPTZ cast to DATE), DuckDB's version (its functions) and the schema version.
SELECT concat_ws(':',
    current_setting('TimeZone'),
    version(),
    (SELECT max(version) FROM meta.schema_version))
