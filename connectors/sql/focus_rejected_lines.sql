-- The lines of one CSV file that DuckDB could not read as a line item (a stray comma or quote,
-- a line cut short) into raw.focus_rejected_lines, one row per line with its errors, so
-- scorecard.data_quality names them while the file's other lines load. A file that is not CSV
-- at all would list every line: the first thousand are kept.
INSERT INTO raw.focus_rejected_lines
SELECT
    $file AS source_file,
    line,
    string_agg(DISTINCT error_type, ', ' ORDER BY error_type)
        || ' (' || min_by(error_message, coalesce(column_idx, 0)) || ')' AS problem,
    left(trim(any_value(csv_line), chr(13) || chr(10)), 200) AS csv_line,
    $run_id AS run_id
FROM temp.main.focus_rejects
GROUP BY line
ORDER BY line
LIMIT 1000
