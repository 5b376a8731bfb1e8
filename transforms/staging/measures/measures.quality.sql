-- Spreadsheet problems, each named by file (or sheet) and row and, where one is to blame, the
-- column: files skipped whole, rows skipped for a bad cell, and rows another row superseded.
SELECT 'measures' AS source, 'measures' AS table_name,
    source_file || coalesce(' row ' || source_row, '') AS record_key,
    field, problem, CAST(NULL AS VARCHAR) AS value
FROM raw.measures_file_problems
UNION ALL
SELECT 'measures', 'measures', source_file || ' row ' || source_row, cell.field, cell.problem,
    cell.value
FROM (SELECT source_file, source_row, unnest(problems) AS cell FROM measure_lines())
UNION ALL
SELECT 'measures', 'measures', source_file || ' row ' || source_row, 'metric_id',
    'duplicate key (metric_id, period_start, dimension): superseded by ' || kept_row, metric_id
FROM measure_rows()
WHERE newest_first > 1
