-- Each source's last load (its cursors for API streams, its loaded files, whichever is later) and
-- the records the warehouse holds from it now, over the core tables: a cursor counts every record
-- it received, and the records read again each night would pile up as rows that are not there.
WITH loads AS (
    SELECT source, updated_at AS loaded_at FROM meta.cursors
    UNION ALL
    SELECT source, loaded_at FROM meta.loaded_files
),

held AS (
    SELECT source, count(*) AS records FROM core.incidents GROUP BY source
    UNION ALL SELECT source, count(*) FROM core.changes GROUP BY source
    UNION ALL SELECT source, count(*) FROM core.requests GROUP BY source
    UNION ALL SELECT source, count(*) FROM core.sla_records GROUP BY source
    UNION ALL SELECT source, count(*) FROM core.outages GROUP BY source
    UNION ALL SELECT source, count(*) FROM core.costs GROUP BY source
    UNION ALL SELECT source, count(*) FROM core.measures GROUP BY source
    UNION ALL SELECT source, count(*) FROM core.survey_responses GROUP BY source
),

held_by_source AS (
    SELECT source, sum(records) AS records FROM held GROUP BY source
)

SELECT
    loads.source,
    max(loads.loaded_at) AS last_load,
    coalesce(any_value(held_by_source.records), 0) AS records_held
FROM loads
LEFT JOIN held_by_source USING (source)
GROUP BY loads.source
ORDER BY loads.source;
