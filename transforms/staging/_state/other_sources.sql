-- A core table a query reads (e.g. the currencies of the other sources' costs): the other
-- sources' rows, summed up by their count and the fingerprints they were staged from.
SELECT concat_ws(':',
    (SELECT count(*) FROM core.{table} WHERE source <> $source),
    (SELECT string_agg(source || '=' || fingerprint, ',' ORDER BY source)
     FROM meta.staging_fingerprints
     WHERE table_name = $table AND source <> $source))
