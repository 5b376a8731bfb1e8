-- Actions still to be done: raised by the scorecard (a red or an escalation) and not yet closed.
-- An action without a status (written before actions had one) counts as open. The empty branch
-- gives the view a status column whether or not scorecard.actions has one yet.
CREATE OR REPLACE VIEW bi.actions_open AS
WITH actions AS (
    SELECT * FROM scorecard.actions
    UNION ALL BY NAME
    SELECT CAST(NULL AS VARCHAR) AS status WHERE false
)

SELECT *
FROM actions
WHERE coalesce(status, 'open') = 'open'
ORDER BY due_date NULLS LAST, action_id;

COMMENT ON VIEW bi.actions_open IS
    'One row per open action: what triggered it, its owner and due date.';
