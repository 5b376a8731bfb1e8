-- Satisfaction survey answers: top-2-box = a score within the top points of its own scale.
WITH responses_judged AS (
    SELECT
        *,
        CASE
            WHEN score < 0 OR score > scale_max THEN 'excluded: score outside its scale'
            -- A scale no wider than the top box (thumbs up or down, 0-1, under the top two
            -- points) would count every answer as satisfied.
            WHEN scale_max < getvariable('top_box_points')
                THEN format('excluded: a scale up to {} lies within the top {} points',
                    scale_max, getvariable('top_box_points'))
        END AS exclusion
    FROM core.survey_responses
    WHERE survey = getvariable('survey')
)
SELECT
    'survey_response' AS record_table,
    response_id AS record_id,
    responded_at AS completed_at,
    answered_on AS local_day,
    service,
    source,
    1.0 AS num,
    1.0 AS den,
    -- The top points from their lowest whole point up (4 and above of 5): a half point below
    -- (3.5 of 5, from a star rating) is not in the top two.
    exclusion IS NULL AND score >= scale_max - getvariable('top_box_points') + 1 AS in_numerator,
    exclusion IS NULL AS in_denominator,
    exclusion AS note
FROM responses_judged
