-- Initiatives not on track: a status that says so, or past their end date and not finished.
SELECT scorecard_id, name, objective, owner, end_date, status
FROM report_initiatives
WHERE lower(coalesce(status, '')) IN ('at_risk', 'at risk', 'off_track', 'off track', 'delayed',
                                      'red', 'amber', 'blocked')
   OR (end_date < CAST($as_of AS DATE)
       AND lower(coalesce(status, '')) NOT IN ('done', 'completed', 'complete', 'closed',
                                               'cancelled', 'canceled'))
ORDER BY scorecard_id, end_date NULLS LAST, name;
