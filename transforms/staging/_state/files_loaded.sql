-- The files a file source has landed, with their content hashes and when each last landed.
SELECT concat_ws(':', count(*), string_agg(path || '=' || content_hash || '@' || loaded_at, ','
    ORDER BY path))
FROM meta.loaded_files
WHERE source = $source
