-- Metrics whose status in the current period differs from the previous complete period, the
-- worst new status first (red, amber, grey, then the improvements), so the page's cut of the list
-- ("+N more") leaves out good news rather than a metric turning red. A period pending a source
-- read is not judged yet: no change to grey and back.
SELECT
    now.scorecard_id, now.metric_id, now.grain, now.period_start,
    before.period_start AS previous_start, before.status AS previous_status, now.status,
    before.score AS previous_score, now.score
FROM report_grain_periods AS periods
JOIN report_status AS now USING (scorecard_id, grain, period_start)
JOIN report_status AS before
    ON before.scorecard_id = now.scorecard_id
   AND before.metric_id = now.metric_id
   AND before.grain = now.grain
   AND before.period_start = periods.previous_start
WHERE now.status IS DISTINCT FROM before.status
    AND NOT now.pending
    AND NOT before.pending
ORDER BY
    now.scorecard_id,
    CASE now.status WHEN 'red' THEN 0 WHEN 'amber' THEN 1 WHEN 'grey' THEN 2 WHEN 'green' THEN 3 ELSE 4 END,
    now.metric_id;
