-- Engagement survey answers as a percentage of their own scale, so scales of 5 and 10 combine.
SELECT
    'survey_response' AS record_table,
    response_id AS record_id,
    responded_at AS completed_at,
    answered_on AS local_day,
    source,
    score / scale_max * 100 AS num,
    1.0 AS den,
    score BETWEEN 0 AND scale_max AS in_numerator,
    score BETWEEN 0 AND scale_max AS in_denominator,
    CASE WHEN score NOT BETWEEN 0 AND scale_max THEN 'excluded: score outside its scale' END AS note
FROM core.survey_responses
WHERE survey = getvariable('survey') AND scale_max > 0
