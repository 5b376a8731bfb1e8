-- The currencies core.costs would hold with the FOCUS files landed so far: each FOCUS currency
-- as staging converts it (a currency with a rate becomes the reporting one) beside the
-- currencies other sources already staged; with each, where it comes from.
WITH focus_currencies AS (
    SELECT DISTINCT upper(trim(BillingCurrency)) AS code, source_file AS origin
    FROM raw.focus_costs
    WHERE BillingCurrency IS NOT NULL
),
converted AS (
    SELECT
        CASE WHEN list_contains($rate_currencies, code) THEN $reporting ELSE code END AS code,
        origin
    FROM focus_currencies
),
other_sources AS (
    SELECT DISTINCT BillingCurrency AS code, source AS origin
    FROM core.costs
    WHERE source <> 'focus' AND BillingCurrency IS NOT NULL
)
SELECT code, list(DISTINCT origin ORDER BY origin) AS origins
FROM (SELECT * FROM converted UNION ALL SELECT * FROM other_sources)
GROUP BY code
ORDER BY code
