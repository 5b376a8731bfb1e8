-- One FOCUS file's line items into raw.focus_costs, streamed by DuckDB (never held in Python).
-- The connector fills in the file's reader, its line numbering and each FOCUS column cast to
-- its core type (NULL where the file lacks the column).
INSERT INTO raw.focus_costs BY NAME
SELECT
    $file AS source_file,
    {line_number} AS line_number,
    {typed_columns},
    now() AS loaded_at,
    $run_id AS run_id
FROM {reader}
