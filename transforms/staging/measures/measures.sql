-- Spreadsheet measure rows (raw.measures_measures) -> core.measures: the valid rows of every
-- file (see _macros.sql), one per metric, period and dimension. loaded_at is when the file was
-- landed, so the freshness check sees how old the spreadsheet is, not when staging last ran.
SELECT
    metric_id,
    start_day AS period_start,
    end_day AS period_end,
    amount AS value,
    nullif(unit, '') AS unit,
    dimension_name AS dimension,
    member_spelling AS dimension_value,
    'measures' AS source,
    source_file,
    source_row,
    loaded_at
FROM measure_rows()
WHERE newest_first = 1
