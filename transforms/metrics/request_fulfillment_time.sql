-- Hours from opening to fulfilment of each service request, counted in the period it was fulfilled.
WITH requests_judged AS (
    SELECT
        *,
        (epoch(fulfilled_at) - epoch(opened_at)) / 3600.0 AS hours,
        CASE
            WHEN list_contains(getvariable('cancelled_states'), lower(state)) THEN 'excluded: cancelled'
            WHEN fulfilled_at IS NULL THEN 'excluded: closed without fulfilled_at'
            WHEN opened_at IS NULL THEN 'excluded: no opened_at'
            WHEN fulfilled_at < opened_at THEN 'excluded: fulfilled before opened'
        END AS exclusion
    FROM core.requests
    WHERE coalesce(fulfilled_at, closed_at) IS NOT NULL
)
SELECT
    'request' AS record_table,
    request_id AS record_id,
    coalesce(fulfilled_at, closed_at) AS completed_at,
    service,
    assignment_group,
    source,
    hours AS num,
    1.0 AS den,
    hours AS x,
    exclusion IS NULL AS in_numerator,
    exclusion IS NULL AS in_denominator,
    exclusion AS note
FROM requests_judged
