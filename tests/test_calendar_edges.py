"""The nightly path on the calendar's edges: the 1st of a month, New Year's day, the Monday after a
DST change, Sunday weeks, a non-UTC calendar, instance and run host.

Each case runs the real steps on a real DuckDB file: KPIs (transforms.kpis), scoring
(transforms.scoring), the bi views and, where it matters, the reports and the pipeline assets.
Records are written in the calendar's local time, so every expected value reads off the record
list: a duration KPI is the median of the hours listed, a per-week rate is deployments divided by
the weeks elapsed (a week is seven calendar days, whatever its hours).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.tags import SCHEDULED_EXECUTION_TIME_TAG
from report_fixture import build_warehouse
from test_servicenow_support import source_for, stage

from connectors.emulators.server import EmulatorServer
from connectors.emulators.servicenow import Credentials, ServiceNowApi
from connectors.emulators.servicenow_tables import MemoryTable
from connectors.measures import from_env as measure_files
from connectors.servicenow import TABLE_FIELDS
from pipelines.kpi import kpi_asset
from pipelines.report import report_asset
from pipelines.resources import WarehouseResource
from pipelines.scorecard import METRIC_STATUS, scorecard_asset
from reports import write_reports
from settings import Settings, load_settings
from settings.clock import run_as_of, run_day
from transforms.kpis import compute_metrics
from transforms.scoring import score_metrics
from transforms.staging import stage as stage_table
from warehouse import Warehouse
from warehouse.bi_views import create_bi_views
from warehouse.ingest import ingest

REPO = Path(__file__).resolve().parents[1]
MONTHLY = ("incident_resolution_time", "month")
QUARTERLY = ("incident_resolution_time_p90", "quarter")
WEEKLY = ("deployment_frequency", "week")
GOALS = {
    "incident_resolution_time": {"grain": "month", "threshold": 10, "target": 5},
    "incident_resolution_time_p90": {"grain": "quarter", "threshold": 20, "target": 10},
    "deployment_frequency": {"grain": "week", "threshold": 1, "target": 5},
}


def local(text: str, zone: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def add_incidents(con, zone: str, rows: list[tuple[str, str, str]]) -> None:
    """Resolved incidents (id, opened, resolved), times as local wall-clock in `zone`."""
    con.executemany(
        "INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, state, "
        "service, assignment_group, priority) VALUES (?, 'servicenow', ?, ?, ?, 'resolved', "
        "'Payroll', 'HR Apps', 3)",
        [(i, i, local(opened, zone), local(resolved, zone)) for i, opened, resolved in rows],
    )


def add_deployments(con, zone: str, rows: list[tuple[str, str]]) -> None:
    """Completed production changes (id, actual end), times as local wall-clock in `zone`."""
    con.executemany(
        "INSERT INTO core.changes (change_id, source, number, type, state, outcome, actual_end, "
        "service, assignment_group) VALUES (?, 'servicenow', ?, 'normal', 'closed', "
        "'successful', ?, 'Payroll', 'HR Apps')",
        [(c, c, local(end, zone)) for c, end in rows],
    )


def nightly(con, as_of: datetime, zone: str, week_start: str = "monday") -> None:
    """The nightly job's KPI, scoring and bi steps, in that order."""
    compute_metrics(con, timezone=zone, week_start=week_start, min_n=1, as_of=as_of)
    score_metrics(con, GOALS, as_of=as_of, timezone=zone)
    create_bi_views(con)


def current(con) -> dict[tuple[str, str], tuple[date, float | None]]:
    """(metric, grain) -> (period_start, actual) of bi.scorecard_current."""
    rows = con.execute(
        "SELECT metric_id, grain, period_start, actual FROM bi.scorecard_current"
    ).fetchall()
    return {(m, g): (p, a) for m, g, p, a in rows}


def to_date(con) -> dict[tuple[str, str], tuple[date, float | None]]:
    """(metric, grain) -> (period_start, actual_to_date) of bi.scorecard_to_date."""
    rows = con.execute(
        "SELECT metric_id, grain, period_start, actual_to_date FROM bi.scorecard_to_date"
    ).fetchall()
    return {(m, g): (p, a) for m, g, p, a in rows}


def completeness(con, metric_id: str, grain: str) -> dict[date, bool]:
    rows = con.execute(
        "SELECT period_start, period_complete FROM kpi.metric_values "
        "WHERE metric_id = ? AND grain = ? AND dimension = 'all'",
        [metric_id, grain],
    ).fetchall()
    return dict(rows)


OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
MONTH_END = [
    ("K1", "2026-10-15 08:00", "2026-10-15 10:00"),  # 2 h, October
    ("K2", "2026-11-30 20:30", "2026-11-30 23:30"),  # 3 h, the last evening of November
    ("K3", "2026-11-30 23:00", "2026-12-01 00:30"),  # resolved after both runs below
]


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Bogota", "Pacific/Auckland"])
def test_a_run_at_local_midnight_of_the_1st_scores_the_month_that_just_ended(warehouse, zone):
    with warehouse.connect() as con:
        add_incidents(con, zone, MONTH_END)
        nightly(con, local("2026-12-01 00:00", zone), zone)
        scored, running = current(con), to_date(con)
        complete = completeness(con, *MONTHLY)
    # November (K2 alone, 3 h) has just ended; December has begun with nothing resolved yet
    assert scored[MONTHLY] == (NOV, 3.0)
    assert running[MONTHLY] == (DEC, None)
    assert complete == {OCT: True, NOV: True, DEC: False}


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Bogota", "Pacific/Auckland"])
def test_a_run_one_second_before_local_midnight_still_scores_the_month_before(warehouse, zone):
    with warehouse.connect() as con:
        add_incidents(con, zone, MONTH_END)
        nightly(con, local("2026-11-30 23:59:59", zone), zone)
        scored, running = current(con), to_date(con)
        complete = completeness(con, *MONTHLY)
    # November is still running: October (K1, 2 h) is the current month, November has K2 so far
    assert scored[MONTHLY] == (OCT, 2.0)
    assert running[MONTHLY] == (NOV, 3.0)
    assert complete == {OCT: True, NOV: False}


def test_an_incident_resolved_at_2330_local_on_the_last_day_counts_in_that_local_month(warehouse):
    zone = "America/Bogota"
    with warehouse.connect() as con:
        add_incidents(con, zone, MONTH_END)
        resolved = con.execute(
            "SELECT resolved_at FROM core.incidents WHERE incident_id = 'K2'"
        ).fetchall()[0][0]
        nightly(con, local("2026-12-01 02:00", zone), zone)
        november = con.execute(
            "SELECT value, n FROM kpi.metric_values WHERE metric_id = 'incident_resolution_time' "
            "AND grain = 'month' AND period_start = ? AND dimension = 'all'",
            [NOV],
        ).fetchall()
    # 23:30 on Nov 30 in Bogota (UTC-5) is 04:30 on Dec 1 in UTC, and still November here
    assert resolved == datetime(2026, 12, 1, 4, 30, tzinfo=UTC)
    assert november == [(3.0, 1)]


def test_new_years_day_scores_december_and_the_fourth_quarter(warehouse):
    zone = "Pacific/Auckland"  # UTC+13 in (southern) summer: the year turns at 11:00 UTC
    with warehouse.connect() as con:
        add_incidents(
            con,
            zone,
            [
                ("Q1", "2026-10-15 08:00", "2026-10-15 10:00"),  # 2 h
                ("Q2", "2026-11-10 08:00", "2026-11-10 12:00"),  # 4 h
                ("Q3", "2026-12-31 20:30", "2026-12-31 23:30"),  # 3 h, New Year's Eve
            ],
        )
        nightly(con, local("2027-01-01 00:00", zone), zone)
        scored, running = current(con), to_date(con)
    new_year = date(2027, 1, 1)
    assert scored[MONTHLY] == (DEC, 3.0)
    # P90 of Q4's [2, 3, 4] h: 3 + 0.8 x (4 - 3) = 3.8 (quantile_cont at 0.9 x 2 = 1.8)
    assert scored[QUARTERLY][0] == OCT
    assert scored[QUARTERLY][1] == pytest.approx(3.8)
    assert running[MONTHLY] == (new_year, None)
    assert running[QUARTERLY] == (new_year, None)


DST_WEEKS = [
    # Europe/Berlin falls back on Sunday 2026-10-25: the week of Oct 19 has 169 hours
    (
        "Europe/Berlin",
        date(2026, 10, 19),
        ["2026-10-19 09:00", "2026-10-22 14:00", "2026-10-25 23:30"],
        "2026-10-26",
    ),
    # America/New_York springs forward on Sunday 2026-03-08: the week of Mar 2 has 167 hours
    (
        "America/New_York",
        date(2026, 3, 2),
        ["2026-03-02 09:00", "2026-03-05 14:00", "2026-03-08 23:30"],
        "2026-03-09",
    ),
]


@pytest.mark.parametrize(("zone", "week", "ends", "monday"), DST_WEEKS)
def test_the_monday_after_a_dst_change_scores_the_week_that_just_ended_as_one_week(
    warehouse, zone, week, ends, monday
):
    with warehouse.connect() as con:
        add_deployments(con, zone, [(f"D{i}", end) for i, end in enumerate(ends)])
        add_deployments(con, zone, [("D-monday", f"{monday} 01:00")])
        nightly(con, local(f"{monday} 02:00", zone), zone)
        scored, running = current(con), to_date(con)
        ended = con.execute(
            "SELECT value, numerator, denominator, period_complete FROM kpi.metric_values "
            "WHERE metric_id = 'deployment_frequency' AND grain = 'week' AND period_start = ? "
            "AND dimension = 'all'",
            [week],
        ).fetchall()
    # three deployments, the last at 23:30 on the Sunday of the change, over one week
    assert ended == [(3.0, 3.0, 1.0, True)]
    assert scored[WEEKLY] == (week, 3.0)
    # the running week: one deployment in the 2 hours since Monday 00:00 = 1 / (2 / 168) weeks
    assert running[WEEKLY] == (date.fromisoformat(monday), pytest.approx(84.0))


def test_availability_over_the_169_hour_week_counts_the_minutes_that_passed(warehouse):
    zone = "Europe/Berlin"
    with warehouse.connect() as con:
        # Payroll is watched from Monday Oct 19 (its first incident) and down for one hour
        add_incidents(con, zone, [("W1", "2026-10-19 00:30", "2026-10-19 01:30")])
        con.execute(
            "INSERT INTO core.outages (outage_id, source, service, type, begin_at, end_at) "
            "VALUES ('O1', 'servicenow', 'Payroll', 'outage', ?, ?)",
            [local("2026-10-20 10:00", zone), local("2026-10-20 11:00", zone)],
        )
        nightly(con, local("2026-10-26 02:00", zone), zone)
        week = con.execute(
            "SELECT value, numerator, denominator FROM kpi.metric_values "
            "WHERE metric_id = 'service_availability' AND grain = 'week' AND period_start = ? "
            "AND dimension = 'all'",
            [date(2026, 10, 19)],
        ).fetchall()
    # 169 hours = 10,140 agreed minutes (Sunday Oct 25 has 25), 60 of them down
    assert week == [(pytest.approx(100 * 10080 / 10140), 10080.0, 10140.0)]


SUNDAY_WEEK = [
    ("S1", "2026-11-22 10:00"),  # Sunday: the first day of the week of Nov 22
    ("S2", "2026-11-28 23:30"),  # Saturday night: its last half hour
    ("S3", "2026-11-29 01:00"),  # Sunday: the next week
]


@pytest.mark.parametrize(
    ("run_at", "running_rate"),
    [
        ("2026-11-29 02:00", 168 / 2),  # Sunday: 1 deployment in 2 hours
        ("2026-11-30 02:00", 168 / 26),  # Monday: 1 deployment in 26 hours
    ],
)
def test_weeks_starting_on_sunday_end_on_saturday_night(warehouse, run_at, running_rate):
    zone = "UTC"
    with warehouse.connect() as con:
        add_deployments(con, zone, SUNDAY_WEEK)
        nightly(con, local(run_at, zone), zone, week_start="sunday")
        scored, running = current(con), to_date(con)
        complete = completeness(con, *WEEKLY)
    assert scored[WEEKLY] == (date(2026, 11, 22), 2.0)
    assert running[WEEKLY] == (date(2026, 11, 29), pytest.approx(running_rate))
    assert complete == {date(2026, 11, 22): True, date(2026, 11, 29): False}


COSTS = """
INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, ChargeCategory,
    BilledCost, EffectiveCost, ProviderName, ServiceCategory, ServiceName)
SELECT 'day-' || i, 'focus', TIMESTAMPTZ '2026-10-01 00:00+00' + to_days(i),
    TIMESTAMPTZ '2026-10-02 00:00+00' + to_days(i), 'Usage', 10, 10, 'AWS', 'Compute', 'EC2'
FROM range(61) AS days(i);
INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, ChargeCategory,
    BilledCost, EffectiveCost, ProviderName, ServiceCategory, ServiceName) VALUES
('month-10', 'focus', '2026-10-01 00:00+00', '2026-11-01 00:00+00', 'Purchase', 300, 300, 'AWS',
    'Support', 'Support'),
('month-11', 'focus', '2026-11-01 00:00+00', '2026-12-01 00:00+00', 'Purchase', 300, 300, 'AWS',
    'Support', 'Support'),
('hour', 'focus', '2026-12-01 03:00+00', '2026-12-01 04:00+00', 'Usage', 5, 5, 'AWS', 'Compute',
    'EC2');
"""


def test_costs_billed_by_utc_day_stay_in_their_month_west_of_utc(warehouse):
    zone = "America/Bogota"  # a UTC billing day starts at 19:00 the evening before here
    with warehouse.connect() as con:
        con.execute(COSTS)
        nightly(con, local("2026-12-01 02:00", zone), zone)
        spend = con.execute(
            "SELECT period_start, value FROM kpi.metric_values WHERE metric_id = 'cloud_spend' "
            "AND grain = 'month' AND dimension = 'all' ORDER BY period_start"
        ).fetchall()
        evidence = con.execute(
            "SELECT count(*) FROM kpi.cost_evidence WHERE metric_id = 'cloud_spend' "
            "AND grain = 'month' AND period_start = ? AND dimension = 'all'",
            [NOV],
        ).fetchall()
    # October: 31 daily lines x 10 + its monthly line 300 = 610. November: 30 x 10 + 300, plus the
    # hourly line of 03:00 UTC on Dec 1, which is 22:00 on Nov 30 here: 605. (Placed by their
    # local start, the daily and monthly lines would slip a day and a month back.)
    assert spend == [(OCT, 610.0), (NOV, 605.0), (DEC, None)]
    assert evidence == [(32,)]


SURVEY = """response_id,survey,responded_at,score,scale_max,service,ticket_number
A1,csat,2026-11-01,5,5,Payroll,
A2,csat,2026-11-30,2,5,Payroll,
A3,csat,2026-12-01,5,5,Payroll,
A4,csat,2026-11-30 23:30:00,4,5,Payroll,
A5,csat,2026-12-01 00:00:00,1,5,Payroll,
"""


def test_survey_answers_dated_without_a_time_count_on_that_date_west_of_utc(warehouse, tmp_path):
    zone = "America/Bogota"
    (tmp_path / "survey.csv").write_text(SURVEY)
    with warehouse.connect() as con:
        ingest(con, measure_files({"MEASURES_PATHS": str(tmp_path / "*.csv")}))
        stage_table(con, "measures", "survey_responses")
        nightly(con, local("2026-12-02 02:00", zone), zone)
        csat = con.execute(
            "SELECT period_start, value, n FROM kpi.metric_values WHERE metric_id = 'csat' "
            "AND grain = 'month' AND dimension = 'all' ORDER BY period_start"
        ).fetchall()
    # A1 (Nov 1) and A2 (Nov 30) are November's by their date; A4 at 23:30 UTC on Nov 30 is
    # 18:30 that day here, and A5, timed at midnight UTC, 19:00 (not a date alone): 2 of 4
    # top-2-box (A1 5, A4 4; A2 2, A5 1) = 50%. A3 (Dec 1) is December's.
    assert [(p, round(v, 1), n) for p, v, n in csat] == [(NOV, 50.0, 4), (DEC, 100.0, 1)]


def test_a_scorecard_as_of_without_offset_is_read_in_the_calendar_time_zone():
    env = {"SCORECARD_AS_OF": "2026-12-01"}
    # the start of December 1st in Bogota (UTC-5), not 19:00 on November 30th there
    assert run_as_of(env, "America/Bogota") == datetime(2026, 12, 1, 5, tzinfo=UTC)
    assert run_as_of({"SCORECARD_AS_OF": "2026-12-01T02:00:00"}, "Asia/Tokyo") == datetime(
        2026, 11, 30, 17, tzinfo=UTC
    )
    # an offset or Z is taken as written, whatever the calendar
    with_offset = {"SCORECARD_AS_OF": "2026-12-01T02:00:00+01:00"}
    assert run_as_of(with_offset, "Asia/Tokyo") == datetime(2026, 12, 1, 1, tzinfo=UTC)
    assert run_as_of({"SCORECARD_AS_OF": "2026-12-01T00:00:00Z"}) == datetime(
        2026, 12, 1, tzinfo=UTC
    )
    # the nightly run at 02:00 in Tokyo is dated December 1st there (November 30th in UTC)
    assert run_day({"SCORECARD_AS_OF": "2026-11-30T17:00:00Z"}, "Asia/Tokyo") == "2026-12-01"


def bogota_month_end(tmp_path, monkeypatch) -> tuple[Settings, Warehouse, dict]:
    """A Bogota calendar scoring incident_resolution_time, the MONTH_END incidents, resources."""
    monkeypatch.setenv("SCORECARD_TIMEZONE", "America/Bogota")
    (tmp_path / "scorecard.yaml").write_text(
        "kpi: {min_n: 1}\nmetrics:\n  incident_resolution_time: {threshold: 10, target: 5}\n"
    )
    warehouse = Warehouse.at(tmp_path / "warehouse.duckdb")
    with warehouse.connect() as con:
        add_incidents(con, "America/Bogota", MONTH_END)
    resources = {"warehouse": WarehouseResource(published_path=str(warehouse.published_path))}
    return load_settings(tmp_path / "scorecard.yaml"), warehouse, resources


def latest_scored_month(con) -> list[tuple]:
    """The latest month of incident_resolution_time on the scorecard, with its actual."""
    return con.execute(
        "SELECT period_start, actual FROM scorecard.metric_status "
        "WHERE metric_id = 'incident_resolution_time' AND grain = 'month' "
        "ORDER BY period_start DESC LIMIT 1"
    ).fetchall()


def test_the_nightly_assets_on_the_1st_in_bogota_score_november(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_AS_OF", "2026-12-01")
    settings, warehouse, resources = bogota_month_end(tmp_path, monkeypatch)
    result = dg.materialize([kpi_asset(settings), scorecard_asset(settings)], resources=resources)
    assert result.success
    with warehouse.connect() as con:
        scored = latest_scored_month(con)
        complete = completeness(con, *MONTHLY)
    # 2026-12-01 is midnight in Bogota: November (K2, 3 h) is complete and scored
    assert scored == [(NOV, 3.0)]
    assert complete == {OCT: True, NOV: True, DEC: False}


def test_scoring_is_as_of_the_instant_the_values_were_computed_for(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_AS_OF", "2026-12-01")
    settings, warehouse, resources = bogota_month_end(tmp_path, monkeypatch)
    assert dg.materialize([kpi_asset(settings)], resources=resources).success
    # The scoring step runs (or is re-materialized) two months later: the values still end with
    # November, so December and January are not scored as months without data.
    monkeypatch.setenv("SCORECARD_AS_OF", "2027-02-01")
    scored = dg.materialize(
        [kpi_asset(settings), scorecard_asset(settings)],
        resources=resources,
        selection=[METRIC_STATUS],
    )
    assert scored.success
    with warehouse.connect() as con:
        periods = con.execute(
            "SELECT period_start, actual, status FROM scorecard.metric_status "
            "WHERE metric_id = 'incident_resolution_time' AND grain = 'month' "
            "ORDER BY period_start"
        ).fetchall()
    # October (K1, 2 h) and November (K2, 3 h), both within the 5 h target
    assert periods == [(OCT, 2.0, "green"), (NOV, 3.0, "green")]


def test_a_scheduled_run_retried_days_later_scores_the_night_it_was_scheduled_for(
    tmp_path, monkeypatch
):
    """The schedule's tick of 02:00 on November 30th in Bogota; its run is retried (a crashed run
    process launched again, or re-executed from the UI) days later. Dagster gives the retry the
    tick's tag, and the run must score that night, not the day the retry happens to run."""
    monkeypatch.delenv("SCORECARD_AS_OF", raising=False)
    settings, warehouse, resources = bogota_month_end(tmp_path, monkeypatch)
    tick = local("2026-11-30 02:00", "America/Bogota")
    result = dg.materialize(
        [kpi_asset(settings), scorecard_asset(settings)],
        resources=resources,
        tags={SCHEDULED_EXECUTION_TIME_TAG: tick.astimezone(UTC).isoformat()},
    )
    assert result.success
    with warehouse.connect() as con:
        as_of = con.execute("SELECT as_of FROM kpi.metric_runs").fetchall()
        scored = latest_scored_month(con)
        complete = completeness(con, *MONTHLY)
    assert as_of == [(tick,)]
    # On that night November is still running: October (K1, 2 h) is the latest scored month
    assert scored == [(OCT, 2.0)]
    assert complete == {OCT: True, NOV: False}


def tokyo_report(tmp_path: Path, monkeypatch, published: Path, clock: str) -> str:
    """The executive page the report step writes for a Tokyo calendar at `clock`."""
    reports = tmp_path / "reports"
    monkeypatch.setenv("SCORECARD_REPORTS", str(reports))
    monkeypatch.setenv("SCORECARD_AS_OF", clock)
    (tmp_path / "scorecard.yaml").write_text("calendar: {timezone: Asia/Tokyo}\n")
    settings = load_settings(tmp_path / "scorecard.yaml")
    result = dg.materialize(
        [report_asset(settings)],
        resources={"warehouse": WarehouseResource(published_path=str(published))},
    )
    assert result.success
    return (reports / "latest.md").read_text()


def test_the_report_is_dated_by_the_calendar_day_of_the_run(tmp_path, monkeypatch):
    published = build_warehouse(tmp_path)
    # the nightly at 02:00 on December 1st in Tokyo, as the clock gives it: in UTC
    page = tokyo_report(tmp_path, monkeypatch, published, "2026-11-30T17:00:00Z")
    assert "As of 2026-12-01." in page


def test_a_report_written_later_is_dated_by_the_as_of_of_its_values(tmp_path, monkeypatch):
    """The values were computed as of 02:00 on December 1st in Tokyo; the report step fails and
    is run again on the morning of December 3rd. The page shows the published values, so it is
    as of their day, as the scoring step judges them, not the day the page was written."""
    published = build_warehouse(tmp_path)
    with duckdb.connect(str(published)) as con:
        con.execute(
            "INSERT INTO kpi.metric_runs (computed_at, as_of, timezone, week_start, metrics, "
            "value_rows) VALUES (TIMESTAMPTZ '2026-11-30 17:05:00+00', "
            "TIMESTAMPTZ '2026-11-30 17:00:00+00', 'Asia/Tokyo', 'monday', 1, 1)"
        )
    page = tokyo_report(tmp_path, monkeypatch, published, "2026-12-03T09:00:00+09:00")
    assert "As of 2026-12-01." in page


# A non-UTC run host: everything the nightly steps write, and the reports, must not depend on TZ.
HOST_TZ_SCRIPT = """
import json, sys
from pathlib import Path
from test_calendar_edges import nightly_and_reports
print(json.dumps(nightly_and_reports(Path(sys.argv[1])), default=str, sort_keys=True))
"""


def nightly_and_reports(folder: Path) -> dict:
    """Run the KPI, scoring, bi and report steps for a Tokyo calendar; return what they wrote."""
    zone = "Asia/Tokyo"
    warehouse = Warehouse.at(folder / "warehouse.duckdb")
    with warehouse.connect() as con:
        add_incidents(
            con,
            zone,
            [
                *MONTH_END,
                ("K4", "2026-11-01 00:30", "2026-11-01 04:30"),  # 4 h, Oct 31 15:30 UTC opening
            ],
        )
        add_deployments(con, zone, [("D1", "2026-11-30 23:30"), ("D2", "2026-10-31 23:30")])
        con.execute(
            "INSERT INTO meta.cursors VALUES ('servicenow', 'incident', 'x', 4, "
            "TIMESTAMPTZ '2026-11-30 17:00:00+00', 'run-1')"
        )
        nightly(con, local("2026-12-01 02:00", zone), zone)
        tables = {
            name: [list(row) for row in con.execute(sql).fetchall()]
            for name, sql in {
                "values": "SELECT * EXCLUDE (computed_at) FROM kpi.metric_values ORDER BY ALL",
                "facts": "SELECT * FROM kpi.metric_facts ORDER BY ALL",
                "status": "SELECT * FROM scorecard.metric_status ORDER BY ALL",
                "current": "SELECT * FROM bi.scorecard_current ORDER BY ALL",
                "to_date": "SELECT * FROM bi.scorecard_to_date ORDER BY ALL",
                "headline": "SELECT metric_id, grain, period_start, actual "
                "FROM bi.scorecard_current ORDER BY ALL",
            }.items()
        }
    files = write_reports(
        warehouse.working_path, folder / "reports", "IT", "2026-12-01", {}, timezone=zone
    )
    return {
        **tables,
        "markdown": files.markdown,
        "services": (folder / "reports" / "services" / "index.html").read_text(),
    }


def run_on_host(tmp_path: Path, host_tz: str) -> dict:
    folder = tmp_path / host_tz.replace("/", "-")
    folder.mkdir()
    run = subprocess.run(
        [sys.executable, "-c", HOST_TZ_SCRIPT, str(folder)],
        cwd=REPO,
        env={**os.environ, "TZ": host_tz, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests'}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def test_a_run_host_outside_utc_writes_the_same_values_and_reports(tmp_path):
    on_utc = run_on_host(tmp_path, "UTC")
    elsewhere = run_on_host(tmp_path, "America/New_York")
    for part in on_utc:
        assert elsewhere[part] == on_utc[part], part
    # November in Tokyo: K2 (3 h) and K4 (4 h, opened 00:30 on Nov 1 there): median 3.5 h; the
    # week of Nov 30 is still running, so the week before (D1 and D2 outside it) scores 0
    assert on_utc["headline"] == [
        ["deployment_frequency", "week", str(date(2026, 11, 23)), 0.0],
        ["incident_resolution_time", "month", str(NOV), 3.5],
    ]
    # the service page counts K2, K3 and K4, opened in November in Tokyo (K4 on Oct 31 in UTC)
    assert (
        '<a href="payroll-53fe8dfb.html">Payroll</a></td><td class="num">3</td>'
        in on_utc["services"]
    )
    # the last load, printed as UTC, and the records held: incidents K1-K4 and changes D1, D2
    assert "| servicenow | 2026-11-30 17:00 UTC | 6 |" in on_utc["markdown"]


def test_a_non_utc_servicenow_instance_is_read_by_its_utc_values(warehouse):
    """The instance shows times in its own zone without an offset; staging reads the UTC value."""
    record = {
        "sys_id": "a" * 32,
        "number": "INC0000001",
        "state": "6",
        "priority": "3",
        # 20:30 and 23:30 on November 30th in Bogota, as the instance stores them: in UTC
        "opened_at": "2026-12-01 01:30:00",
        "resolved_at": "2026-12-01 04:30:00",
        "sys_updated_on": "2026-12-01 04:30:00",
        "sys_created_on": "2026-12-01 01:30:00",
    }
    tables = {name: MemoryTable.of(name) for name in TABLE_FIELDS}
    tables["incident"] = MemoryTable.of("incident", [record])
    api = ServiceNowApi(tables, Credentials("tester", "s3cret-pass"), time_zone="America/Bogota")
    with EmulatorServer(api) as server, warehouse.connect() as con:
        ingest(con, source_for(server.url))
        shown = con.execute(
            "SELECT record ->> '$.resolved_at.display_value' FROM raw.servicenow_incident"
        ).fetchall()
        stage(con)
        nightly(con, local("2026-12-01 02:00", "America/Bogota"), "America/Bogota")
        november = con.execute(
            "SELECT value FROM kpi.metric_values WHERE metric_id = 'incident_resolution_time' "
            "AND grain = 'month' AND period_start = ? AND dimension = 'all'",
            [NOV],
        ).fetchall()
    assert shown == [("2026-11-30 23:30:00",)]  # the instance's own wall clock, no offset
    assert november == [(3.0,)]


def servicenow_read_last_on_dec_31(con, zone: str) -> None:
    """Incidents resolved in November (2 h) and December (4 h); ServiceNow last read at 02:00 on
    Dec 31 in `zone` (07:00 UTC, New York)."""
    add_incidents(
        con,
        zone,
        [
            ("I1", "2026-11-10 08:00", "2026-11-10 10:00"),
            ("I2", "2026-12-10 08:00", "2026-12-10 12:00"),
        ],
    )
    con.execute(
        "INSERT INTO meta.source_reads VALUES "
        "('servicenow', TIMESTAMPTZ '2026-12-31 07:00+00', 'r1')"
    )


def run_on_jan_2(con, zone: str, goals: dict, when: str = "2027-01-02 02:00") -> None:
    """The nightly KPI, scoring and bi steps at 02:00 on Jan 2, 2027 (or `when`) in `zone`."""
    as_of = local(when, zone)
    compute_metrics(con, timezone=zone, min_n=1, as_of=as_of)
    score_metrics(con, goals, as_of=as_of, timezone=zone)
    create_bi_views(con)


def test_to_date_shows_the_running_period_not_one_awaiting_a_read(warehouse):
    """ServiceNow was last read at 02:00 on Dec 31 (New York) and is down when the run at 02:00
    on Jan 2 scores: December has ended but is not complete until ServiceNow is read again. It
    is not the running period either: bi.scorecard_to_date shows January alone, with nothing
    resolved in it yet."""
    zone = "America/New_York"
    goals = {"incident_resolution_time": {"grain": "month", "threshold": 10, "target": 5}}
    with warehouse.connect() as con:
        servicenow_read_last_on_dec_31(con, zone)
        run_on_jan_2(con, zone, goals)
        december = con.execute(
            "SELECT value, period_complete FROM kpi.metric_values WHERE metric_id = "
            "'incident_resolution_time' AND grain = 'month' AND dimension = 'all' "
            "AND period_start = '2026-12-01'"
        ).fetchall()
        to_date = con.execute(
            "SELECT period_start, actual_to_date FROM bi.scorecard_to_date "
            "WHERE metric_id = 'incident_resolution_time'"
        ).fetchall()
    assert december == [(4.0, False)]
    assert to_date == [(date(2027, 1, 1), None)]


def test_a_metric_awaiting_a_source_read_stays_on_the_scorecard_as_pending(warehouse):
    """On Jan 2 ServiceNow, down since Dec 31, holds December's resolution time back while Jira,
    read that night, completes December's deployments: the scorecard shows December with both
    metrics, the one awaiting its read grey with the reason, and January to date for both."""
    zone = "America/New_York"
    goals = {
        "incident_resolution_time": {"grain": "month", "threshold": 10, "target": 5},
        "deployment_frequency": {"grain": "month", "threshold": 1, "target": 5},
    }
    with warehouse.connect() as con:
        servicenow_read_last_on_dec_31(con, zone)
        con.executemany(
            "INSERT INTO core.changes (change_id, source, number, type, state, outcome, "
            "actual_end, service) VALUES (?, 'jira', ?, 'normal', 'closed', 'successful', ?, "
            "'Payroll')",
            [
                (c, c, local(end, zone))
                for c, end in [("C1", "2026-11-12 10:00"), ("C2", "2026-12-03 10:00")]
            ],
        )
        con.execute(
            "INSERT INTO meta.source_reads VALUES ('jira', TIMESTAMPTZ '2027-01-02 07:00+00', 'r2')"
        )
        run_on_jan_2(con, zone, goals)
        scorecard = con.execute(
            "SELECT metric_id, period_start, actual, status, score, reason "
            "FROM bi.scorecard_current ORDER BY metric_id"
        ).fetchall()
        november = con.execute(
            "SELECT actual, status FROM scorecard.metric_status "
            "WHERE metric_id = 'incident_resolution_time' AND period_start = '2026-11-01'"
        ).fetchall()
        running = to_date(con)
    (deployments, resolution) = scorecard
    # One deployment in December's 31 days: 7/31 a week, red against the threshold of 1, scored
    # 100/3 * (1 + (7/31 - 1) / (5 - 1)) = 26.9.
    assert deployments == ("deployment_frequency", DEC, pytest.approx(7 / 31), "red", 26.9, None)
    assert resolution[:5] == ("incident_resolution_time", DEC, None, "grey", None)
    assert resolution[5] == (
        "pending: not complete until read again: servicenow read up to 2026-12-31 02:00"
    )
    # November was complete and stays scored: 2 hours, between the target (5) and the default
    # stretch (5 - (10 - 5) = 0).
    assert november == [(2.0, "green")]
    assert running == {
        ("deployment_frequency", "month"): (date(2027, 1, 1), 0.0),
        ("incident_resolution_time", "month"): (date(2027, 1, 1), None),
    }


def read_servicenow(con, utc: str) -> None:
    """ServiceNow read to its end, from `utc` on."""
    con.execute(
        "INSERT OR REPLACE INTO meta.source_reads VALUES ('servicenow', CAST(? AS TIMESTAMPTZ), 'r')",
        [utc],
    )


def test_a_pending_period_neither_resolves_nor_extends_a_red_action(warehouse):
    """November is red (20 h against a threshold of 10) and opens an action. On Jan 2 December
    awaits ServiceNow's read: it must not count as the period the trigger cleared in. On Jan 3
    December is red too, so the action opened for November is still the open one."""
    zone = "America/New_York"
    goals = {"incident_resolution_time": {"grain": "month", "threshold": 10, "target": 5}}
    actions = []
    with warehouse.connect() as con:
        add_incidents(
            con,
            zone,
            [
                ("I1", "2026-11-10 00:00", "2026-11-10 20:00"),
                ("I2", "2026-12-10 00:00", "2026-12-10 20:00"),
            ],
        )
        for read_at, run_at in [
            ("2026-12-02 07:00+00", "2026-12-02 02:00"),
            ("2026-12-31 07:00+00", "2027-01-02 02:00"),  # down on the nights of Jan 1 and 2
            ("2027-01-03 07:00+00", "2027-01-03 02:00"),
        ]:
            read_servicenow(con, read_at)
            run_on_jan_2(con, zone, goals, when=run_at)
            actions.append(
                con.execute(
                    "SELECT opened_period, trigger, status, resolved_period FROM scorecard.actions"
                ).fetchall()
            )
        december = con.execute(
            "SELECT status, pending FROM scorecard.metric_status WHERE period_start = ?", [DEC]
        ).fetchall()
    open_for_november = [(date(2026, 11, 1), "red", "open", None)]
    assert actions == [open_for_november] * 3
    assert december == [("red", False)]


def test_an_objective_gets_no_verdict_while_one_of_its_metrics_is_pending(warehouse):
    """Objective 'Stable': deployments (weight 3, read) and resolution time (weight 1, critical,
    pending on Jan 2). Scored early, December's objective would be green at 75% coverage and turn
    red once the critical metric is read; it waits instead."""
    zone = "America/New_York"
    stable = {"objective": "Stable", "perspective": "internal_process"}
    goals = {
        "incident_resolution_time": {
            "grain": "month",
            "threshold": 10,
            "target": 5,
            "weight": 1,
            "critical": True,
            **stable,
        },
        "deployment_frequency": {
            "grain": "month",
            "threshold": 1,
            "target": 5,
            "weight": 3,
            **stable,
        },
    }
    december = []
    with warehouse.connect() as con:
        add_incidents(
            con,
            zone,
            [
                ("I1", "2026-11-10 00:00", "2026-11-10 02:00"),
                ("I2", "2026-12-10 00:00", "2026-12-10 20:00"),  # 20 h: red
            ],
        )
        add_deployments(con, zone, [(f"C{d}", f"2026-12-{d:02d} 10:00") for d in range(1, 32)])
        con.execute("UPDATE core.changes SET source = 'jira'")
        con.execute(
            "INSERT INTO meta.source_reads VALUES ('jira', TIMESTAMPTZ '2027-01-02 07:00+00', 'r')"
        )
        for read_at, run_at in [
            ("2026-12-31 07:00+00", "2027-01-02 02:00"),
            ("2027-01-03 07:00+00", "2027-01-03 02:00"),
        ]:
            read_servicenow(con, read_at)
            run_on_jan_2(con, zone, goals, when=run_at)
            december.append(
                con.execute(
                    "SELECT score, coverage, status FROM scorecard.objective_scores "
                    "WHERE objective = 'Stable' AND period_start = ?",
                    [DEC],
                ).fetchall()
            )
    # Jan 3: deployments 7 a week score 100 (stretch 9 is not reached: 100/3 * (2 + (7 - 5) /
    # (9 - 5)) = 83.3), resolution 20 h scores 0; (3 x 83.3 + 0) / 4 = 62.5, capped red by the
    # critical metric.
    assert december[0] == [(None, 75.0, "grey")]
    assert december[1] == [(62.5, 100.0, "red")]


def test_a_quiet_source_not_read_since_the_month_ended_still_holds_it(warehouse):
    """ServiceNow's last incident was in November and its last read on Dec 31: its Dec 31 may
    still bring one, so on Jan 2 December is pending, not 'no data', and not scored from Jira's
    incident alone when Jira feeds the metric too."""
    zone = "America/New_York"
    goals = {"incident_resolution_time": {"grain": "month", "threshold": 10, "target": 5}}
    reasons = []
    with warehouse.connect() as con:
        add_incidents(con, zone, [("I1", "2026-11-10 00:00", "2026-11-10 02:00")])
        read_servicenow(con, "2026-12-31 07:00+00")
        for jira_incident in (False, True):
            if jira_incident:
                add_incidents(con, zone, [("J1", "2026-12-10 00:00", "2026-12-10 02:00")])
                con.execute("UPDATE core.incidents SET source = 'jira' WHERE incident_id = 'J1'")
                con.execute(
                    "INSERT INTO meta.source_reads VALUES "
                    "('jira', TIMESTAMPTZ '2027-01-02 07:00+00', 'r')"
                )
            run_on_jan_2(con, zone, goals)
            reasons.append(
                con.execute(
                    "SELECT actual, status, pending, reason FROM scorecard.metric_status "
                    "WHERE period_start = ?",
                    [DEC],
                ).fetchall()
            )
    awaiting = "pending: not complete until read again: servicenow read up to 2026-12-31 02:00"
    assert reasons == [[(None, "grey", True, awaiting)]] * 2


def test_a_metric_whose_first_period_is_pending_is_on_the_scorecard(warehouse):
    zone = "America/New_York"
    goals = {"incident_resolution_time": {"grain": "month", "threshold": 10, "target": 5}}
    with warehouse.connect() as con:
        add_incidents(con, zone, [("I2", "2026-12-10 00:00", "2026-12-10 04:00")])
        read_servicenow(con, "2026-12-31 07:00+00")
        run_on_jan_2(con, zone, goals)
        scorecard = con.execute(
            "SELECT metric_id, period_start, status, pending FROM bi.scorecard_current"
        ).fetchall()
    assert scorecard == [("incident_resolution_time", DEC, "grey", True)]


# Cost Explorer's days, as the nightly read at `night` left them: each whole UTC day before the
# UTC day of the read (the window ends there), 10 a day from November 1st.
COST_EXPLORER_DAYS = """
INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, ChargeCategory,
    BilledCost, EffectiveCost, ProviderName, ServiceCategory, ServiceName)
SELECT 'aws-' || i, 'aws_ce', TIMESTAMPTZ '2026-11-01 00:00+00' + to_days(i),
    TIMESTAMPTZ '2026-11-02 00:00+00' + to_days(i), 'Usage', 10, 10, 'AWS', 'Compute', 'EC2'
FROM range(CAST(? AS DATE) - DATE '2026-11-01') AS days(i)
"""


@pytest.mark.parametrize(
    ("zone", "night", "complete", "spend", "awaiting"),
    [
        # 17:00 (Tokyo) or 13:00 (Auckland) UTC on Nov 30: Cost Explorer was asked for the days
        # up to Nov 29, and Nov 30 (November's last billing day) has not even ended in UTC.
        ("Asia/Tokyo", "2026-12-01 02:00", False, 290.0, "aws_ce read up to 2026-11-30 00:00"),
        (
            "Pacific/Auckland",
            "2026-12-01 02:00",
            False,
            290.0,
            "aws_ce read up to 2026-11-30 00:00",
        ),
        # The next night reads Nov 30 (17:00 UTC on Dec 1): November is whole.
        ("Asia/Tokyo", "2026-12-02 02:00", True, 300.0, None),
        # Past midnight UTC the read of Dec 1 already asks for Nov 30 (Berlin: 01:00 UTC).
        ("UTC", "2026-12-01 02:00", True, 300.0, None),
        ("Europe/Berlin", "2026-12-01 02:00", True, 300.0, None),
        ("America/Bogota", "2026-12-01 02:00", True, 300.0, None),
    ],
)
def test_a_cost_api_holds_the_month_until_it_was_asked_for_its_last_utc_day(
    warehouse, zone, night, complete, spend, awaiting
):
    as_of = local(night, zone)
    with warehouse.connect() as con:
        con.execute(COST_EXPLORER_DAYS, [as_of.astimezone(UTC).date()])
        con.execute("INSERT INTO meta.source_reads VALUES ('aws_ce', ?, 'r')", [as_of])
        compute_metrics(con, timezone=zone, min_n=1, as_of=as_of)
        november = con.execute(
            "SELECT value, period_complete, coverage FROM kpi.metric_values "
            "WHERE metric_id = 'cloud_spend' AND grain = 'month' AND dimension = 'all' "
            "AND period_start = ?",
            [NOV],
        ).fetchall()
    [(value, period_complete, coverage)] = november
    assert (value, period_complete) == (spend, complete)
    if awaiting:
        assert coverage.endswith(f"not complete until read again: {awaiting}")


# A FOCUS export's lines, `count` of them from 00:00 UTC on November 1st, each `hours` long and
# costing 1 per hour (10 for a daily line): a file arriving a day late holds November 1-29 on
# December 1st.
FOCUS_LINES = """
INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, ChargeCategory,
    BilledCost, EffectiveCost, ProviderName, ServiceCategory, ServiceName)
SELECT 'focus-' || i, 'focus', start, start + to_hours(CAST($hours AS INTEGER)), 'Usage', cost,
    cost, 'AWS', 'Compute', 'EC2'
FROM (
    SELECT i, TIMESTAMPTZ '2026-11-01 00:00+00' + to_hours(CAST(i * $hours AS INTEGER)) AS start,
        CASE WHEN $hours = 24 THEN 10 ELSE $hours END AS cost
    FROM range($count) AS lines(i)
)
"""


def november_spend(con, zone: str, night: str) -> tuple[float, bool, str]:
    compute_metrics(con, timezone=zone, min_n=1, as_of=local(night, zone))
    [row] = con.execute(
        "SELECT value, period_complete, coverage FROM kpi.metric_values "
        "WHERE metric_id = 'cloud_spend' AND grain = 'month' AND dimension = 'all' "
        "AND period_start = ?",
        [NOV],
    ).fetchall()
    return row


def test_a_focus_file_a_day_late_holds_the_month_until_its_last_day_arrives(warehouse):
    with warehouse.connect() as con:
        # On December 1st the export holds November 1-29 (290); ServiceNow was read that night.
        con.execute(FOCUS_LINES, {"count": 29, "hours": 24})
        add_incidents(con, "UTC", [("I1", "2026-11-10 00:00", "2026-11-10 02:00")])
        read_servicenow(con, "2026-12-01 01:00+00")
        value, complete, coverage = november_spend(con, "UTC", "2026-12-01 02:00")
        assert (value, complete) == (290.0, False)
        assert coverage.endswith("not complete until read again: focus read up to 2026-11-30 00:00")
        # Only the cost metrics wait: November's incidents are complete.
        incidents = con.execute(
            "SELECT value, period_complete FROM kpi.metric_values "
            "WHERE metric_id = 'incident_resolution_time' AND grain = 'month' "
            "AND dimension = 'all' AND period_start = ?",
            [NOV],
        ).fetchall()
        assert incidents == [(2.0, True)]
        # The next night's file brings November 30th: 300, complete, and no restatement (the
        # month was never complete at 290).
        con.execute("DELETE FROM core.costs")
        con.execute(FOCUS_LINES, {"count": 30, "hours": 24})
        read_servicenow(con, "2026-12-02 01:00+00")
        value, complete, coverage = november_spend(con, "UTC", "2026-12-02 02:00")
        restated = con.execute("SELECT count(*) FROM kpi.metric_restatements").fetchall()
    assert (value, complete) == (300.0, True)
    assert "not complete" not in coverage
    assert restated == [(0,)]


@pytest.mark.parametrize(
    ("zone", "night", "count", "hours", "expected"),
    [
        # A monthly invoice: one line from November 1st to December 1st (00:00 UTC), billing
        # November's UTC days, completes November the night it arrives, west of UTC too.
        ("UTC", "2026-12-01 02:00", 1, 720, (720.0, True, None)),
        ("America/Bogota", "2026-12-01 02:00", 1, 720, (720.0, True, None)),
        # Berlin (UTC+1): daily lines count on their UTC date, so November 1-29 wait for the
        # 30th, and with it November is whole at 01:00 UTC.
        (
            "Europe/Berlin",
            "2026-12-01 02:00",
            29,
            24,
            (290.0, False, "focus read up to 2026-11-30 00:00"),
        ),
        ("Europe/Berlin", "2026-12-01 02:00", 30, 24, (300.0, True, None)),
        # Hourly lines count on their local day: the line from 22:00 to 23:00 UTC is Berlin's
        # last November hour (719 hours from 01:00 on November 1st), so the file reaching only
        # 22:00 UTC (23:00 in Berlin) holds November back.
        (
            "Europe/Berlin",
            "2026-12-01 02:00",
            718,
            1,
            (718.0, False, "focus read up to 2026-11-30 23:00"),
        ),
        ("Europe/Berlin", "2026-12-01 02:00", 719, 1, (719.0, True, None)),
        # An export whose latest day (November 29th) ended on November 30th (00:00 UTC): its next
        # day is due by December 1st, a week overdue on December 8th (00:00), paused or retired
        # after that (December 8th, 00:01).
        (
            "UTC",
            "2026-12-08 00:00",
            29,
            24,
            (290.0, False, "focus read up to 2026-11-30 00:00"),
        ),
        ("UTC", "2026-12-08 00:01", 29, 24, (290.0, True, None)),
    ],
)
def test_a_focus_file_is_read_up_to_its_latest_charge(
    warehouse, zone, night, count, hours, expected
):
    value, complete, awaiting = expected
    with warehouse.connect() as con:
        con.execute(FOCUS_LINES, {"count": count, "hours": hours})
        spend, period_complete, coverage = november_spend(con, zone, night)
    assert (spend, period_complete) == (value, complete)
    if awaiting:
        assert coverage.endswith(f"not complete until read again: {awaiting}")
    else:
        assert "not complete" not in coverage


def test_a_charge_billed_ahead_does_not_count_as_the_file_reaching_its_end(warehouse):
    # November 1-29 and a subscription billed ahead for December (December 1st to January 1st,
    # counted on December 1st): November still waits for its 30th.
    with warehouse.connect() as con:
        con.execute(FOCUS_LINES, {"count": 29, "hours": 24})
        con.execute(
            "INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, "
            "ChargeCategory, BilledCost, EffectiveCost, ProviderName, ServiceCategory, "
            "ServiceName) VALUES ('focus-sub', 'focus', TIMESTAMPTZ '2026-12-01 00:00+00', "
            "TIMESTAMPTZ '2027-01-01 00:00+00', 'Purchase', 50, 50, 'AWS', 'Compute', 'EC2')"
        )
        value, complete, coverage = november_spend(con, "UTC", "2026-12-01 02:00")
    assert (value, complete) == (290.0, False)
    assert coverage.endswith("not complete until read again: focus read up to 2026-11-30 00:00")


def test_a_month_long_tax_line_beside_daily_usage_does_not_complete_the_month(warehouse):
    # November 1-29 of daily usage and November's tax billed as one line for the whole month
    # (November 1st to December 1st, as AWS bills it): the tax says nothing of whether November
    # 30th's usage has arrived, so November still waits for it; with it, 300 + 29 and complete.
    tax = (
        "INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, "
        "ChargeCategory, BilledCost, EffectiveCost, ProviderName, ServiceCategory, "
        "ServiceName) VALUES ('focus-tax', 'focus', TIMESTAMPTZ '2026-11-01 00:00+00', "
        "TIMESTAMPTZ '2026-12-01 00:00+00', 'Tax', 29, 29, 'AWS', 'Other', 'Tax')"
    )
    with warehouse.connect() as con:
        con.execute(FOCUS_LINES, {"count": 29, "hours": 24})
        con.execute(tax)
        waiting = november_spend(con, "UTC", "2026-12-01 02:00")
        con.execute("DELETE FROM core.costs")
        con.execute(FOCUS_LINES, {"count": 30, "hours": 24})
        con.execute(tax)
        whole = november_spend(con, "UTC", "2026-12-02 02:00")
    assert waiting[:2] == (319.0, False)
    assert waiting[2].endswith("not complete until read again: focus read up to 2026-11-30 00:00")
    assert whole[:2] == (329.0, True)


@pytest.mark.parametrize(
    ("night", "expected"),
    [
        # On January 1st December has AWS's 31 days (1 a day) but not its invoice, due by
        # January 1st: December waits for it.
        ("2027-01-01 02:00", (31.0, False)),
        # A week after the invoice was due (January 8th, 00:00) the source counts as retired.
        ("2027-01-08 00:01", (31.0, True)),
    ],
)
def test_a_monthly_invoice_holds_the_next_month_until_its_invoice_is_a_week_overdue(
    warehouse, night, expected
):
    with warehouse.connect() as con:
        con.execute(FOCUS_LINES, {"count": 1, "hours": 720})
        con.execute(
            "INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd, "
            "ChargeCategory, BilledCost, EffectiveCost, ProviderName, ServiceCategory, "
            "ServiceName) SELECT 'aws-' || i, 'aws_ce', "
            "TIMESTAMPTZ '2026-11-01 00:00+00' + to_days(i), "
            "TIMESTAMPTZ '2026-11-02 00:00+00' + to_days(i), 'Usage', 1, 1, 'AWS', 'Compute', "
            "'EC2' FROM range(61) AS days(i)"
        )
        con.execute(
            "INSERT INTO meta.source_reads VALUES "
            "('aws_ce', TIMESTAMPTZ '2027-01-01 01:00+00', 'r')"
        )
        compute_metrics(con, timezone="UTC", min_n=1, as_of=local(night, "UTC"))
        [(value, complete, coverage)] = con.execute(
            "SELECT value, period_complete, coverage FROM kpi.metric_values "
            "WHERE metric_id = 'cloud_spend' AND grain = 'month' AND dimension = 'all' "
            "AND period_start = ?",
            [DEC],
        ).fetchall()
    assert (value, complete) == expected
    if not complete:
        assert coverage.endswith("not complete until read again: focus read up to 2026-12-01 00:00")
