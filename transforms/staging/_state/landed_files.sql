-- A file source's rows: every landing stamps its rows with now() as loaded_at (a changed file
-- replaces its rows, a changed set replaces all), so the count and the loaded_at range change
-- whenever the rows may have; the file hashes (files_loaded.sql) back this up.
SELECT concat_ws(':', count(*), min(loaded_at), max(loaded_at))
FROM {table}
