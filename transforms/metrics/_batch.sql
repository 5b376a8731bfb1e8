-- What the metrics of one facts file (batch_facts_id) need from its facts, as constants the
-- values query can plan with: the dimensions they show ('all', their dimensions and the one they
-- take the worst of) and whether any is a median or p90.
SET VARIABLE batch_dimensions = (
    SELECT list(DISTINCT dimension ORDER BY dimension)
    FROM (
        SELECT unnest(['all'] || dimensions || list_filter([worst_of], lambda d: d IS NOT NULL))
            AS dimension
        FROM metric_specs
        WHERE facts_id = getvariable('batch_facts_id')
    )
);
SET VARIABLE batch_needs_quantiles = (
    SELECT coalesce(bool_or(statistic IN ('median', 'p90')), false)
    FROM metric_specs
    WHERE facts_id = getvariable('batch_facts_id')
);
