-- Whether a scorecard row is a period that ended but is not complete (a source not read since):
-- listed grey with its reason, and left out of the action log and the roll-ups' verdicts until
-- the run that completes it scores it.
ALTER TABLE scorecard.metric_status ADD COLUMN pending BOOLEAN;
