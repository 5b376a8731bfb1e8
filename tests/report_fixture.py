"""A small hand-built warehouse for the report tests (a real DuckDB file at the newest schema).

The default scorecard has scorecard_id 'default' (settings.config.DEFAULT_SCORECARD); the report
names it by the scorecard name it is given ('IT Balanced Scorecard'). The pilot is a second
scorecard_id in the same tables, as a config with `scorecards: {pilot: ...}` writes it.
"""

from pathlib import Path

import duckdb

from warehouse import Warehouse

STATUS = """
INSERT INTO scorecard.metric_status
    (scorecard_id, metric_id, grain, period_start, perspective, objective, owner, actual,
     threshold, target, direction, score, status, trend, escalate, missing_commentary)
VALUES
    ('default', 'change_failure_rate', 'month', DATE '2026-09-01', 'internal_process',
     'Change safely', 'Change Manager', 8, 15, 10, 'lower', 80, 'green', NULL, false, false),
    ('default', 'change_failure_rate', 'month', DATE '2026-10-01', 'internal_process',
     'Change safely', 'Change Manager', 12, 15, 10, 'lower', 55, 'amber', 'deteriorating', false,
     false),
    ('default', 'change_failure_rate', 'month', DATE '2026-11-01', 'internal_process',
     'Change safely', 'Change Manager', 16, 15, 10, 'lower', 20, 'red', 'deteriorating', true,
     true),
    ('default', 'csat', 'month', DATE '2026-10-01', 'customer', 'Delight users',
     'Head of Service Desk', 80, 75, 85, 'higher', 50, 'amber', NULL, false, false),
    ('default', 'csat', 'month', DATE '2026-11-01', 'customer', 'Delight users',
     'Head of Service Desk', 90, 75, 85, 'higher', 90, 'green', 'improving', false, false);
INSERT INTO scorecard.perspective_scores
    (scorecard_id, perspective, grain, period_start, score, coverage, status)
VALUES
    ('default', 'internal_process', 'month', DATE '2026-11-01', 20.0, 100.0, 'red'),
    ('default', 'customer', 'month', DATE '2026-11-01', 90.0, 100.0, 'green');
-- The action log's row for the red: trigger 'red', due 14 days after November (the default
-- due_days for a month), owner Jane Doe (an owner the review assigned, not the metric's).
INSERT INTO scorecard.actions
    (action_id, scorecard_id, metric_id, grain, dimension, dimension_value, owner, trigger,
     opened_period, due_date, status, opened_at, updated_at)
VALUES
    ('default:change_failure_rate:all:red:2026-11-01', 'default', 'change_failure_rate', 'month',
     'all', 'all', 'Jane Doe', 'red', DATE '2026-11-01', DATE '2026-12-15', 'open',
     TIMESTAMPTZ '2026-12-01 02:00:00+00', TIMESTAMPTZ '2026-12-01 02:00:00+00');
-- I-1 ended 2026-10-31 and is still active; its metric went 8 -> 16 (lower is better): at risk.
-- I-2 started in October; csat went 80 -> 90 (higher is better) and moved: on track.
INSERT INTO scorecard.initiatives VALUES
    ('default', 'I-1', 'Automated change testing', 'Sam Lee', 50000, 'active', DATE '2026-01-01',
     DATE '2026-10-31', ['Change safely'], ['change_failure_rate'], 3),
    ('default', 'I-2', 'Self-service portal', 'Ana Ruiz', 20000, 'active', DATE '2026-10-01',
     DATE '2027-06-30', ['Delight users'], ['csat'], 3);
-- As transforms/scorecard/initiative_progress.sql computes it from the rows above: I-1 has no
-- value on or before its start, so it starts at the first one (September, 8).
INSERT INTO scorecard.initiative_progress VALUES
    ('default', 'I-1', 'change_failure_rate', DATE '2026-09-01', 8, DATE '2026-11-01', 16, 8,
     false, true, NULL),
    ('default', 'I-2', 'csat', DATE '2026-10-01', 80, DATE '2026-11-01', 90, 10, true, true, NULL);
INSERT INTO scorecard.data_quality (source, table_name, record_key, field, problem, value) VALUES
    ('servicenow', 'incidents', 'INC1', 'state', 'unknown state code', '9'),
    ('servicenow', 'incidents', 'INC2', 'state', 'unknown state code', '9');
INSERT INTO meta.cursors VALUES
    ('servicenow', 'incident', 'x', 2, TIMESTAMPTZ '2026-12-01 02:00:00+00', 'run-1');
INSERT INTO core.incidents (incident_id, source, number, opened_at, priority, state, service) VALUES
    ('servicenow:1', 'servicenow', 'INC1', TIMESTAMPTZ '2026-11-03 10:00:00+00', 1, 'resolved',
     'Email'),
    ('servicenow:2', 'servicenow', 'INC2', TIMESTAMPTZ '2026-11-20 10:00:00+00', 3, 'new',
     'Email'),
    ('servicenow:3', 'servicenow', 'INC3', TIMESTAMPTZ '2026-10-20 10:00:00+00', 3, 'closed',
     'Payroll');
"""

# The same scorecard again as a pilot: the same figures under scorecard_id 'pilot', plus what only
# the pilot has: commentary and a decision on its red (the decision closed its action, so no action
# is open and the metric's owner answers), an action on the Email service, and a governance row.
PILOT = """
INSERT INTO scorecard.metric_status BY NAME
SELECT * REPLACE ('pilot' AS scorecard_id) FROM scorecard.metric_status
WHERE scorecard_id = 'default';
UPDATE scorecard.metric_status
SET commentary = 'Two releases failed on the same defect', decision = 'Freeze Friday releases',
    missing_commentary = false
WHERE scorecard_id = 'pilot' AND metric_id = 'change_failure_rate'
  AND period_start = DATE '2026-11-01';
INSERT INTO scorecard.perspective_scores BY NAME
SELECT * REPLACE ('pilot' AS scorecard_id) FROM scorecard.perspective_scores
WHERE scorecard_id = 'default';
INSERT INTO scorecard.initiatives BY NAME
SELECT * REPLACE ('pilot' AS scorecard_id) FROM scorecard.initiatives
WHERE scorecard_id = 'default';
INSERT INTO scorecard.initiative_progress BY NAME
SELECT * REPLACE ('pilot' AS scorecard_id) FROM scorecard.initiative_progress
WHERE scorecard_id = 'default';
INSERT INTO scorecard.actions
    (action_id, scorecard_id, metric_id, grain, dimension, dimension_value, owner, trigger,
     opened_period, due_date, status, closed_at, note, opened_at, updated_at)
VALUES
    ('pilot:change_failure_rate:all:red:2026-11-01', 'pilot', 'change_failure_rate', 'month',
     'all', 'all', 'Jane Doe', 'red', DATE '2026-11-01', DATE '2026-12-15', 'closed',
     TIMESTAMPTZ '2026-12-01 02:00:00+00', 'Freeze Friday releases',
     TIMESTAMPTZ '2026-12-01 02:00:00+00', TIMESTAMPTZ '2026-12-01 02:00:00+00'),
    ('pilot:change_failure_rate:service=Email:red:2026-11-01', 'pilot', 'change_failure_rate',
     'month', 'service', 'Email', 'Email Service Owner', 'red', DATE '2026-11-01',
     DATE '2026-12-15', 'open', NULL, 'Roll back the mail relay patch',
     TIMESTAMPTZ '2026-12-01 02:00:00+00', TIMESTAMPTZ '2026-12-01 02:00:00+00');
INSERT INTO scorecard.data_quality (source, table_name, record_key, field, problem, value) VALUES
    ('scorecard', 'governance', 'pilot/metrics/csat', 'owner', 'metric with no owner', NULL);
"""


def build_warehouse(folder: Path, pilot: bool = False) -> Path:
    """Create the fixture warehouse; return the DuckDB file to render from."""
    warehouse = Warehouse.at(folder / "warehouse.duckdb")
    with warehouse.connect() as con:
        con.execute(STATUS)
        if pilot:
            con.execute(PILOT)
    return warehouse.working_path


def build_crowded_warehouse(folder: Path) -> Path:
    """The fixture with more than the page's left column holds: 20 more reds with long ids and
    commentary, and 8 more initiatives at risk."""
    source = build_warehouse(folder)
    with duckdb.connect(str(source)) as con:
        # Eight more initiatives at risk (past their end date), named so they wrap to 3 lines.
        for i in range(8):
            con.execute(
                "INSERT INTO scorecard.initiatives VALUES ('default', ?, ?, 'Owner', 1, "
                "'at_risk', DATE '2026-01-01', DATE '2026-11-30', [], [], 3)",
                [f"X-{i}", f"Initiative {i} of many"],
            )
        # Twenty reds, each with a long metric id and a long commentary (cut at three lines).
        con.execute(
            "INSERT INTO scorecard.metric_status (scorecard_id, metric_id, grain, period_start, "
            "perspective, objective, owner, actual, threshold, target, direction, score, status, "
            "escalate, commentary, missing_commentary) "
            "SELECT 'default', 'security_incident_resolution_time_' || i, 'month', "
            "DATE '2026-11-01', 'customer', 'Delight users', 'Head of Service Desk', 1, 2, 3, "
            "'higher', 0, 'red', true, repeat('A long commentary. ', 10), false "
            "FROM range(20) AS t(i)"
        )
    return source
