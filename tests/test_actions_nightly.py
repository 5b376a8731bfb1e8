"""The action log over two consecutive nights of the real nightly job (`dg launch`, demo sources,
one warehouse): actions open, persist without duplicates, resolve when their trigger clears and
close from an owner's decision; re-running a night changes nothing.

The nights straddle a month end (30 November, then 1 December 2026), since a monthly trigger can
only clear with a newly complete month. Goals are set so the triggers do not depend on the demo's
figures: incident resolution time is red against a threshold of 0.002 h until goals effective
1 November 2026 (threshold 100,000 h) make any real value green; SLA attainment can never reach
a threshold of 1000 %, so it is red every month.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import launch_nightly_job

CONFIG = """\
scorecard_id: it
owner: CIO
signals: {baseline_periods: 4}
metrics:
  incident_resolution_time:
    {perspective: internal_process, objective: Restore service fast, owner: Incident Manager,
     threshold: 0.002, target: 0.001,
     goals: [{effective: 2026-11-01, threshold: 100000, target: 50000}]}
  sla_attainment:
    {perspective: customer, objective: Keep our service promises, owner: Service Level Manager,
     threshold: 1000, target: 2000}
commentary: COMMENTARY
"""
EXPLAINED = """\
- metric: sla_attainment
  period: 2026-10
  commentary: The supplier contract still measures response, not resolution.
  author: Service Level Manager
"""
DECIDED = (
    EXPLAINED
    + """\
- metric: sla_attainment
  period: 2026-11
  commentary: Still red after the supplier review.
  decision: Renegotiate the supplier SLA; accept red until the new contract.
  author: Service Level Manager
"""
)
NIGHT_1, NIGHT_2 = "2026-11-30T02:00:00", "2026-12-01T02:00:00"


@pytest.fixture
def nights(tmp_path: Path):
    """A night: write the commentary file, launch the nightly job at the as-of on the same
    warehouse and DAGSTER_HOME, and return the whole published scorecard.actions table."""
    commentary = tmp_path / "commentary.yaml"
    config = tmp_path / "scorecard.yaml"
    config.write_text(CONFIG.replace("COMMENTARY", str(commentary)))
    warehouse = tmp_path / "warehouse.duckdb"

    def night(as_of: str, comments: str) -> list[tuple]:
        commentary.write_text(comments)
        launch_nightly_job(
            dagster_home=tmp_path / "dagster",
            SCORECARD_CONFIG=str(config),
            SCORECARD_WAREHOUSE=str(warehouse),
            SCORECARD_AS_OF=as_of,
        )
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute("SELECT * FROM scorecard.actions ORDER BY action_id").fetchall()

    night.warehouse = warehouse
    return night


def action_log(warehouse: Path) -> dict[str, tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT action_id, status, opened_period, resolved_period, due_date, note, owner "
                "FROM scorecard.actions ORDER BY action_id"
            ).fetchall()
        }


# The demo's history as of 30 November 2026 starts in September 2025, so both runs of red months
# start there; due: the end of September plus 14 days for a monthly metric.
IRT = "it:incident_resolution_time:all:red:2025-09-01"
SLA = "it:sla_attainment:all:red:2025-09-01"
SEPTEMBER, DUE = date(2025, 9, 1), date(2025, 10, 15)


def test_actions_open_persist_resolve_and_close_over_two_nights(nights):
    # Night 1, 30 November: October is the latest complete month; both metrics have been red in
    # every month, so each has one open action (the demo's figures raise no other trigger).
    first = nights(NIGHT_1, EXPLAINED)
    assert action_log(nights.warehouse) == {
        IRT: ("open", SEPTEMBER, None, DUE, None, "Incident Manager"),
        SLA: ("open", SEPTEMBER, None, DUE, None, "Service Level Manager"),
    }

    # The same night again: the whole action log is unchanged, timestamps included.
    assert nights(NIGHT_1, EXPLAINED) == first

    # Night 2, 1 December: November is complete. Its goals make incident resolution time green,
    # so its action resolves in November; SLA attainment stays red and keeps its one action,
    # which the owner's decision for November closes, with the decision as note. No new row.
    second = nights(NIGHT_2, DECIDED)
    note = "Renegotiate the supplier SLA; accept red until the new contract."
    assert action_log(nights.warehouse) == {
        IRT: ("resolved", SEPTEMBER, date(2026, 11, 1), DUE, None, "Incident Manager"),
        SLA: ("closed", SEPTEMBER, None, DUE, note, "Service Level Manager"),
    }
    # Opened once, on night 1: the opening instant is night 1's as-of.
    assert [row[-2] for row in second] == [row[-2] for row in first]

    with duckdb.connect(str(nights.warehouse), read_only=True) as con:
        statuses = con.execute(
            "SELECT period_start, status, commentary, missing_commentary "
            "FROM scorecard.metric_status WHERE metric_id = 'sla_attainment' "
            "AND period_start >= DATE '2026-10-01' ORDER BY period_start"
        ).fetchall()
        # signals.baseline_periods: 4 in the config locks the XmR centre line on the first four
        # months with a value.
        centre, first_four = con.execute(
            "SELECT max(xmr_center), avg(actual) FILTER (WHERE n <= 4) FROM ("
            " SELECT xmr_center, actual, row_number() OVER (ORDER BY period_start) AS n"
            " FROM scorecard.metric_status"
            " WHERE metric_id = 'sla_attainment' AND actual IS NOT NULL)"
        ).fetchall()[0]
    assert statuses == [
        (
            date(2026, 10, 1),
            "red",
            "The supplier contract still measures response, not resolution.",
            False,
        ),
        (date(2026, 11, 1), "red", "Still red after the supplier review.", False),
    ]
    assert centre == pytest.approx(first_four)
