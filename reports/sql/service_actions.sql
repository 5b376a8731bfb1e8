-- The open actions each service owns, for its page.
SELECT service, action_id, metric_id, trigger, owner, due_date, commentary
FROM report_actions
WHERE service IS NOT NULL AND coalesce(status, 'open') NOT IN ('resolved', 'closed')
ORDER BY service, due_date NULLS LAST, action_id;
