-- Spreadsheet rows parsed and checked in one pass, for the staging queries (valid rows) and the
-- quality queries (the rest) alike. A row is skipped alone, not its file: each row is an
-- independent fact (one month's revenue), so a typo in one cell must not hide a year of good
-- inputs. Each row carries the list of its cells' problems: empty means valid.

-- Measure rows with their cells typed (NULL where a cell does not parse) and their input id's
-- required dimension (NULL for an id that is not an input).
CREATE OR REPLACE TEMP MACRO measure_lines_typed() AS TABLE
    SELECT
        lines.*,
        coalesce(
            try_strptime(lines.period_start, '%Y-%m-%d'),
            try_strptime(lines.period_start, '%Y-%m')
        )::DATE AS start_day,
        try_strptime(lines.period_end, '%Y-%m-%d')::DATE AS end_day,
        -- 46.3% means 46.3, as an Excel cell formatted as percent lands (connectors/measures.py).
        try_cast(regexp_replace(lines.value, '\s*%$', '') AS DOUBLE) AS amount,
        coalesce(nullif(lower(lines.dimension), ''), 'all') AS dimension_name,
        coalesce(display_name(lines.dimension_value), 'all') AS dimension_member,
        inputs.dimension AS input_dimension,
        (SELECT string_agg(metric_id, ', ' ORDER BY position) FROM raw.measures_inputs)
            AS known_ids
    FROM raw.measures_measures AS lines
    LEFT JOIN raw.measures_inputs AS inputs ON inputs.metric_id = lines.metric_id;

-- Each measure row with `problems`: every cell that stops it loading, with its column.
CREATE OR REPLACE TEMP MACRO measure_lines() AS TABLE
    SELECT
        *,
        list_filter([
            {'field': 'metric_id', 'value': metric_id, 'problem':
                CASE WHEN metric_id IS NULL THEN 'missing metric id'
                     WHEN input_dimension IS NULL
                     THEN 'unknown metric id (known: ' || known_ids || ')'
                END},
            {'field': 'period_start', 'value': period_start, 'problem':
                CASE WHEN start_day IS NULL
                     THEN 'bad date: expected YYYY-MM-DD (or YYYY-MM)'
                     -- A month labelled by its last day would count in the next month.
                     WHEN period_end IS NULL AND day(start_day) <> 1
                     THEN 'period_start must be the first of a month, or give period_end'
                END},
            {'field': 'period_end', 'value': period_end, 'problem':
                CASE WHEN period_end IS NOT NULL AND end_day IS NULL
                     THEN 'bad date: expected YYYY-MM-DD'
                     WHEN end_day < start_day THEN 'period_end is before period_start'
                END},
            {'field': 'value', 'value': value, 'problem':
                CASE WHEN value IS NULL THEN 'missing value'
                     WHEN amount IS NULL OR NOT isfinite(amount) THEN 'not a number'
                END},
            {'field': 'dimension', 'value': dimension, 'problem':
                CASE WHEN dimension_name NOT IN (input_dimension, 'all')
                     THEN 'dimension must be ' || input_dimension || ' or all for ' || metric_id
                     WHEN dimension_name <> 'all' AND dimension_member = 'all'
                     THEN 'dimension_value is required when dimension is ' || dimension_name
                END}
        ], lambda cell: cell.problem IS NOT NULL) AS problems
    FROM measure_lines_typed();

-- Valid measure rows; when rows share a key, the later file's (then the lower) row comes first
-- (newest_first = 1) and the others name it in kept_row. A dimension value typed in another
-- letter case ("CRM upgrade" in a correction of "CRM Upgrade") is the same initiative: one key,
-- so the correction replaces the row rather than adding to it, and one spelling (member_spelling:
-- that of the earliest period, then the first in byte order), so its return so far is one row.
CREATE OR REPLACE TEMP MACRO measure_rows() AS TABLE
    SELECT
        *,
        row_number() OVER same_key AS newest_first,
        first_value(source_file || ' row ' || source_row) OVER same_key AS kept_row,
        first_value(dimension_member) OVER (
            PARTITION BY dimension_name, lower(dimension_member)
            ORDER BY start_day, dimension_member
        ) AS member_spelling
    FROM measure_lines()
    WHERE len(problems) = 0
    WINDOW same_key AS (
        PARTITION BY metric_id, start_day, dimension_name, lower(dimension_member)
        ORDER BY source_path DESC, source_file DESC, source_row DESC
    );

-- Survey answers with their cells typed (the scale defaults to 5 when the column is empty) and
-- `problems`, as for measure rows.
CREATE OR REPLACE TEMP MACRO survey_lines() AS TABLE
    WITH typed AS (
        SELECT
            *,
            instant(responded_at) AS answered,
            -- A date alone (a CSV cell, or a workbook's date cell) counts on that date.
            CASE WHEN regexp_full_match(trim(responded_at), '\d{4}-\d{2}-\d{2}')
                THEN try_cast(trim(responded_at) AS DATE) END AS answered_on,
            try_cast(score AS DOUBLE) AS points,
            coalesce(try_cast(scale_max AS DOUBLE), CASE WHEN scale_max IS NULL THEN 5 END)
                AS scale
        FROM raw.measures_survey_responses
    )
    SELECT
        *,
        list_filter([
            {'field': 'survey', 'value': survey, 'problem':
                CASE WHEN survey IS NULL THEN 'missing survey name' END},
            {'field': 'responded_at', 'value': responded_at, 'problem':
                CASE WHEN answered IS NULL AND placeholder_time(try_cast(responded_at AS TIMESTAMPTZ))
                     THEN 'timestamp before 2000 (a placeholder): left empty'
                     WHEN answered IS NULL
                     THEN 'bad timestamp: expected YYYY-MM-DD[ HH:MM:SS]'
                END},
            {'field': 'scale_max', 'value': scale_max, 'problem':
                -- 'Infinity' and 'NaN' read as numbers, but no score is in the top of such a
                -- scale: the answer would count as dissatisfied.
                CASE WHEN scale IS NULL OR NOT isfinite(scale) OR scale <= 0
                     THEN 'scale_max must be a positive number'
                END},
            {'field': 'score', 'value': score, 'problem':
                CASE WHEN points IS NULL OR NOT isfinite(points) THEN 'not a number'
                     WHEN points < 0 OR points > scale THEN 'score outside 0..scale_max'
                END}
        ], lambda cell: cell.problem IS NOT NULL) AS problems
    FROM typed;

-- Valid answers, identified by the survey tool's response id or else by file (its whole path, or
-- path#sheet: monthly folders often hold files of the same name) and row; a repeated id puts the
-- later file's (then the lower) row first, as for measures.
CREATE OR REPLACE TEMP MACRO survey_rows() AS TABLE
    WITH identified AS (
        SELECT
            *,
            'measures:' || coalesce(
                nullif(response_id, ''),
                source_file || ':' || source_row
            ) AS answer_id
        FROM survey_lines()
        WHERE len(problems) = 0
    )
    SELECT
        *,
        row_number() OVER same_answer AS newest_first,
        first_value(source_file || ' row ' || source_row) OVER same_answer AS kept_row
    FROM identified
    WINDOW same_answer AS (
        PARTITION BY answer_id
        ORDER BY source_path DESC, source_file DESC, source_row DESC
    );
