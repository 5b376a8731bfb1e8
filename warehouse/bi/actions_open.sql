-- Actions still to be done: opened by a scorecard trigger (README "The monthly review") and
-- neither resolved (the trigger cleared) nor closed (an owner recorded a decision). Passes every
-- scorecard.actions column through, scorecard_id included.
CREATE OR REPLACE VIEW bi.actions_open AS
SELECT *
FROM scorecard.actions
WHERE status = 'open'
ORDER BY due_date NULLS LAST, action_id;

COMMENT ON VIEW bi.actions_open IS
    'One row per open action: its scorecard, metric, trigger, owner and due date.';
