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
UNION ALL
-- An input whose days run into a second calendar quarter (a fiscal year's budget entered once)
-- lies whole in no week, month or quarter, so no KPI counts it: said here, as its periods would
-- otherwise read "no inputs" beside an input that was entered. Its last day as the KPIs read it:
-- the calendar month when none is given, the day before a next month's first day given as end.
SELECT 'measures', 'measures', source_file || ' row ' || source_row, 'period_end',
    format('spans {} to {}, more than one calendar quarter: no week, month or quarter holds it '
        || 'whole, so no KPI counts it; enter it per quarter or month', start_day, last_day),
    period_end
FROM (
    SELECT
        *,
        CASE
            WHEN end_day IS NULL THEN (start_day + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE
            WHEN end_day > start_day AND day(end_day) = 1 AND day(start_day) = 1
                THEN (end_day - INTERVAL 1 DAY)::DATE
            ELSE end_day
        END AS last_day
    FROM measure_rows()
    WHERE newest_first = 1
)
WHERE date_trunc('quarter', start_day) <> date_trunc('quarter', last_day)
