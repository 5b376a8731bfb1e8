-- The five metrics whose score moved most since the previous complete period.
SELECT
    now.scorecard_id, now.metric_id, now.grain, now.period_start,
    before.score AS previous_score, now.score,
    now.score - before.score AS change
FROM report_grain_periods AS periods
JOIN report_status AS now USING (scorecard_id, grain, period_start)
JOIN report_status AS before
    ON before.scorecard_id = now.scorecard_id
   AND before.metric_id = now.metric_id
   AND before.grain = now.grain
   AND before.period_start = periods.previous_start
WHERE now.score IS NOT NULL AND before.score IS NOT NULL AND now.score <> before.score
QUALIFY row_number() OVER (
    PARTITION BY now.scorecard_id ORDER BY abs(now.score - before.score) DESC, now.metric_id
) <= 5
ORDER BY now.scorecard_id, abs(change) DESC, now.metric_id;
