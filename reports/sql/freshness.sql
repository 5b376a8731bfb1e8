-- The last load of each source: its cursors (API streams) and its loaded files, whichever is later.
WITH loads AS (
    SELECT source, updated_at AS loaded_at, records AS rows FROM meta.cursors
    UNION ALL
    SELECT source, loaded_at, rows_loaded FROM meta.loaded_files
)

SELECT source, max(loaded_at) AS last_load, sum(rows) AS rows_loaded
FROM loads
GROUP BY source
ORDER BY source;
