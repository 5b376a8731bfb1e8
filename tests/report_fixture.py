"""A small hand-built warehouse for the report tests (a real DuckDB file at the newest schema)."""

from pathlib import Path

from warehouse import Warehouse

STATUS = """
INSERT INTO scorecard.metric_status
    (metric_id, grain, period_start, perspective, objective, owner, actual, threshold, target,
     direction, score, status, trend, escalate)
VALUES
    ('change_failure_rate', 'month', DATE '2026-09-01', 'internal_process', 'Change safely',
     'Change Manager', 8, 15, 10, 'lower', 80, 'green', NULL, false),
    ('change_failure_rate', 'month', DATE '2026-10-01', 'internal_process', 'Change safely',
     'Change Manager', 12, 15, 10, 'lower', 55, 'amber', 'deteriorating', false),
    ('change_failure_rate', 'month', DATE '2026-11-01', 'internal_process', 'Change safely',
     'Change Manager', 16, 15, 10, 'lower', 20, 'red', 'deteriorating', true),
    ('csat', 'month', DATE '2026-10-01', 'customer', 'Delight users', 'Head of Service Desk',
     80, 75, 85, 'higher', 50, 'amber', NULL, false),
    ('csat', 'month', DATE '2026-11-01', 'customer', 'Delight users', 'Head of Service Desk',
     90, 75, 85, 'higher', 90, 'green', 'improving', false);
INSERT INTO scorecard.perspective_scores VALUES
    ('internal_process', 'month', DATE '2026-11-01', 20.0, 100.0, 'red'),
    ('customer', 'month', DATE '2026-11-01', 90.0, 100.0, 'green');
INSERT INTO scorecard.actions VALUES
    ('A-1', 'change_failure_rate', DATE '2026-11-01', 'red', 'Jane Doe', DATE '2026-12-15',
     TIMESTAMPTZ '2026-12-01 02:00:00+00');
INSERT INTO scorecard.initiatives VALUES
    ('I-1', 'Automated change testing', 'Change safely', 'Sam Lee', DATE '2026-01-01',
     DATE '2026-10-31', 'in_progress');
INSERT INTO scorecard.data_quality VALUES
    ('servicenow', 'incidents', 'INC1', 'state', 'unknown state code', '9', NULL),
    ('servicenow', 'incidents', 'INC2', 'state', 'unknown state code', '9', NULL);
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

# The same scorecard again as a pilot, through the scorecard_id column another release adds.
PILOT = """
ALTER TABLE scorecard.metric_status ADD COLUMN scorecard_id VARCHAR DEFAULT 'IT Balanced Scorecard';
ALTER TABLE scorecard.perspective_scores ADD COLUMN scorecard_id VARCHAR
    DEFAULT 'IT Balanced Scorecard';
INSERT INTO scorecard.metric_status
    (metric_id, grain, period_start, perspective, owner, actual, threshold, target, direction,
     score, status, escalate, scorecard_id)
SELECT metric_id, grain, period_start, perspective, owner, actual, threshold, target, direction,
       score, status, escalate, 'Pilot'
FROM scorecard.metric_status;
INSERT INTO scorecard.perspective_scores
    (perspective, grain, period_start, score, coverage, status, scorecard_id)
SELECT perspective, grain, period_start, score, coverage, status, 'Pilot'
FROM scorecard.perspective_scores;
"""


def build_warehouse(folder: Path, pilot: bool = False) -> Path:
    """Create the fixture warehouse; return the DuckDB file to render from."""
    warehouse = Warehouse.at(folder / "warehouse.duckdb")
    with warehouse.connect() as con:
        con.execute(STATUS)
        if pilot:
            # metric_status' primary key does not know scorecards: the pilot needs it gone.
            con.execute(
                "CREATE TABLE scorecard.ms AS SELECT * FROM scorecard.metric_status;"
                "DROP TABLE scorecard.metric_status;"
                "ALTER TABLE scorecard.ms RENAME TO metric_status;"
                "CREATE TABLE scorecard.ps AS SELECT * FROM scorecard.perspective_scores;"
                "DROP TABLE scorecard.perspective_scores;"
                "ALTER TABLE scorecard.ps RENAME TO perspective_scores;"
            )
            con.execute(PILOT)
    return warehouse.working_path
