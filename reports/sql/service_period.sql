-- The period the service pages report, one for all scorecards: the last complete month any
-- scorecard is read at (the month the executive summary heads its pages with), whichever
-- scorecard's id sorts first; without a monthly scorecard, the latest current period of any
-- grain (a weekly scorecard's last week rather than a quarterly one's last quarter).
SELECT grain, period_start
FROM report_periods
WHERE period_start IS NOT NULL
ORDER BY grain = 'month' DESC, period_start DESC, grain DESC
LIMIT 1;
