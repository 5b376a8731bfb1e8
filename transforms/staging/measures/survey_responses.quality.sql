-- Survey answers skipped for a bad cell, and answers a later row with the same id superseded.
SELECT 'measures' AS source, 'survey_responses' AS table_name,
    source_file || ' row ' || source_row AS record_key, cell.field, cell.problem, cell.value
FROM (SELECT source_file, source_row, unnest(problems) AS cell FROM survey_lines())
UNION ALL
SELECT 'measures', 'survey_responses', source_file || ' row ' || source_row, 'response_id',
    'duplicate response: superseded by ' || kept_row, answer_id
FROM survey_rows()
WHERE newest_first > 1
