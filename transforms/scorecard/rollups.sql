-- Roll metric scores up to objectives and perspectives in one pass: the weighted mean of the
-- metrics with data, and coverage = weight with data / all weight. Below 70% coverage a level
-- says "insufficient data" instead of a number; a critical metric caps its parent's status at its
-- own (a critical green one, a band's green that scores 100 included, keeps its parent from blue).
-- metric_status holds ended periods only, and a grey (no data) or stale metric has no score, so it
-- counts as missing here. A metric pending a source read may still move its parent either way
-- (past a critical cap, too), so a level with one gets no verdict yet: grey, without a score,
-- until the run that completes the period. Metrics without goals carry no weight. Each scorecard
-- rolls up on its own, and each period with the weights (goal version) in force for it.
WITH scored_goals AS (
    SELECT *
    FROM scorecard_goals
    WHERE (threshold IS NOT NULL AND target IS NOT NULL AND threshold <> target)
       OR band_low < band_high
),

periods AS (
    SELECT DISTINCT scorecard_id, grain, period_start FROM scorecard.metric_status
),

-- Every goal in every period, so a metric without a value lowers coverage instead of vanishing.
weighted AS (
    SELECT g.scorecard_id, g.metric_id, g.objective, g.perspective, p.grain, p.period_start,
           s.score, s.status, coalesce(s.pending, false) AS pending, g.weight, g.critical
    FROM scored_goals AS g
    JOIN periods AS p
        ON p.scorecard_id = g.scorecard_id AND p.grain = g.grain
        AND p.period_start >= coalesce(g.goals_from, DATE '0001-01-01')
        AND p.period_start < coalesce(g.goals_to, DATE '9999-12-31')
    LEFT JOIN scorecard.metric_status AS s
        ON s.scorecard_id = g.scorecard_id AND s.metric_id = g.metric_id
        AND s.grain = p.grain AND s.period_start = p.period_start
),

rolled AS (
    SELECT
        scorecard_id,
        CASE WHEN grouping(objective) = 0 THEN 'objective' ELSE 'perspective' END AS level,
        coalesce(objective, perspective) AS name,
        CASE WHEN grouping(objective) = 0 THEN any_value(perspective) ELSE perspective END AS perspective,
        grain,
        period_start,
        sum(weight * score) FILTER (WHERE score IS NOT NULL)
            / nullif(sum(weight) FILTER (WHERE score IS NOT NULL), 0) AS weighted_score,
        coalesce(sum(weight) FILTER (WHERE score IS NOT NULL), 0) / sum(weight) AS coverage,
        bool_or(critical AND status = 'red') AS critical_red,
        bool_or(critical AND status = 'amber') AS critical_amber,
        bool_or(critical AND status = 'green') AS critical_green,
        bool_or(pending) AS has_pending
    FROM weighted
    WHERE (objective IS NOT NULL OR perspective IS NOT NULL)
    GROUP BY GROUPING SETS (
        (scorecard_id, objective, grain, period_start),
        (scorecard_id, perspective, grain, period_start)
    )
    HAVING coalesce(objective, perspective) IS NOT NULL
)

-- Status follows the published score with the metrics' cut-offs (33.3, 66.7, 100), so a roll-up
-- of one metric at its threshold (33.3, amber) is amber too.
SELECT
    scorecard_id, level, name, perspective, grain, period_start,
    CASE WHEN coverage >= 0.7 AND NOT has_pending THEN round(weighted_score, 1) END AS score,
    -- To six decimals, only to drop the float noise: rounded to one, 69.97% would read as the 70%
    -- it falls short of, and the overall's mean of the coverages could reach 70 on it.
    round(100 * coverage, 6) AS coverage,
    CASE
        WHEN has_pending THEN 'grey'
        WHEN coverage < 0.7 THEN 'insufficient data'
        WHEN critical_red OR round(weighted_score, 1) < 33.3 THEN 'red'
        WHEN critical_amber OR round(weighted_score, 1) < 66.7 THEN 'amber'
        WHEN round(weighted_score, 1) >= 100 AND NOT coalesce(critical_green, false) THEN 'blue'
        ELSE 'green'
    END AS status,
    -- The cap itself, for the overall above this level (the executive summary's); none on a
    -- level without a verdict (grey, or insufficient data), which caps nothing.
    CASE
        WHEN has_pending OR coverage < 0.7 THEN NULL
        WHEN critical_red THEN 'red'
        WHEN critical_amber THEN 'amber'
        WHEN critical_green THEN 'green'
    END AS capped_at
FROM rolled
