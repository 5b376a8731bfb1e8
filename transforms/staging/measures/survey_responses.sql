-- Spreadsheet survey answers (raw.measures_survey_responses) -> core.survey_responses: the
-- valid answers of every file (see _macros.sql), one per response id.
SELECT
    answer_id AS response_id,
    'measures' AS source,
    lower(survey) AS survey,
    answered AS responded_at,
    answered_on,
    points AS score,
    scale AS scale_max,
    display_name(service) AS service,
    nullif(ticket_number, '') AS ticket_number,
    source_file,
    source_row,
    loaded_at
FROM survey_rows()
WHERE newest_first = 1
