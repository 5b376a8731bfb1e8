-- The open actions raised on a service (dimension 'service'), for its page.
SELECT
    dimension_value AS service, scorecard_id, action_id, metric_id, trigger, owner,
    opened_period, due_date, note
FROM scorecard.actions
WHERE dimension = 'service' AND status = 'open'
ORDER BY service, due_date NULLS LAST, scorecard_id, action_id;
