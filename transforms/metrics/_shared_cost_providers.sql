-- One provider's costs delivered by two cost sources for the same days (an AWS FOCUS export beside
-- the aws_ce source, an Azure export beside azure_cost): the cost KPIs sum every source, so that
-- provider's spend counts twice on those days. Listed as a data-quality problem of the cost facts
-- for each source involved, with the days shared, so one of them can be switched off (or the
-- provider left out of its files). Reads cost_lines_by_charge_start (_facts_input.sql).
-- (Distinct provider, day and source first: a cheap hash, which leaves the list aggregate few rows.)
WITH provider_day_sources AS (
    SELECT DISTINCT
        lower(ProviderName) AS provider_key,
        ProviderName AS provider,
        CAST(ChargePeriodStart AT TIME ZONE 'UTC' AS DATE) AS charge_day,
        source
    FROM cost_lines_by_charge_start
    WHERE ProviderName IS NOT NULL
),
provider_days AS (
    SELECT
        provider_key,
        any_value(provider) AS provider,
        charge_day,
        list(DISTINCT source ORDER BY source) AS sources
    FROM provider_day_sources
    GROUP BY provider_key, charge_day
    HAVING count(DISTINCT source) > 1
),
shared AS (
    SELECT
        provider_key,
        any_value(provider) AS provider,
        sources,
        count(*) AS days,
        min(charge_day) AS first_day,
        max(charge_day) AS last_day
    FROM provider_days
    GROUP BY provider_key, sources
)
SELECT
    unnest(sources) AS source,
    'metric_facts' AS table_name,
    provider AS record_key,
    'ProviderName' AS field,
    format(
        'costs of {} come from {} on {} day(s) ({} to {}): the cost KPIs count each source, so '
            || 'its spend counts more than once on those days; switch all but one of them off '
            || 'for {}',
        provider, array_to_string(sources, ' and '), days, first_day, last_day, provider
    ) AS problem,
    provider AS value,
    getvariable('computed_at') AS detected_at
FROM shared
ORDER BY record_key, source
