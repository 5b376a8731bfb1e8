-- Each service's open actions (the prepared view service_actions), soonest due first.
SELECT *
FROM service_actions
ORDER BY service, due_date NULLS LAST, scorecard_id, action_id;
