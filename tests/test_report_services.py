"""The service-owner pages beside several scorecards, records without a service and odd names,
rendered from the hand-built warehouse of tests/report_fixture.py."""

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from reports import write_reports
from reports.services import HEADERS
from tests.report_fixture import build_warehouse
from transforms.kpis import compute_metrics
from transforms.scoring import score_metrics
from warehouse import Warehouse

NAMES = {"change_failure_rate": "Change failure rate", "csat": "Customer satisfaction"}

# A people scorecard that scores only a quarterly survey; its id sorts before 'default'. As of
# December 1st its last complete quarter is Q3 (July-September), while the default scorecard's
# last complete month is November.
PEOPLE = """
INSERT INTO scorecard.metric_status
    (scorecard_id, metric_id, grain, period_start, perspective, objective, owner, actual,
     threshold, target, direction, score, status, trend, escalate, missing_commentary)
VALUES
    ('a-people', 'employee_engagement', 'quarter', DATE '2026-04-01', 'learning_growth',
     'Keep our people', 'Head of People', 70, 65, 75, 'higher', 50, 'amber', NULL, false, false),
    ('a-people', 'employee_engagement', 'quarter', DATE '2026-07-01', 'learning_growth',
     'Keep our people', 'Head of People', 80, 65, 75, 'higher', 80, 'green', NULL, false, false);
INSERT INTO scorecard.perspective_scores
    (scorecard_id, perspective, grain, period_start, score, coverage, status)
VALUES ('a-people', 'learning_growth', 'quarter', DATE '2026-07-01', 80.0, 100.0, 'green');
"""


def index_rows(index: str) -> dict[str, list[str]]:
    """The index's rows: the service's name (link text or plain) -> its figure cells."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", index)[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        found[re.sub(r"<[^>]+>", "", cells[0])] = cells[1:]
    return found


def test_service_pages_report_the_last_complete_month_whichever_scorecard_sorts_first(
    tmp_path: Path,
):
    """The people scorecard ('a-people', quarterly) sorts before 'default' (monthly). The
    service pages still report November 2026, the month the executive summary reports: Email
    had INC1 (P1) and INC2 opened in November, Payroll's INC3 was opened in October. Q3
    (July-September), the people scorecard's period, holds none of them."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(PEOPLE)
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    assert files.scorecards == 2
    assert "# a-people: Q3 2026" in files.markdown
    assert "# IT Balanced Scorecard: November 2026" in files.markdown
    index = files.services_index.read_text()
    assert "<h1>Services: November 2026</h1>" in index
    found = index_rows(index)
    assert found["Email"][:3] == ["2", "1", "1"]
    assert found["Payroll"][:3] == ["0", "0", "0"]
    page = (files.services_index.parent / "email-969ccbd3.html").read_text()
    assert "<h1>Email: November 2026</h1>" in page


# November's records without a service: INC11 (P2, resolved), INC12 (P3, still new), INC13 (P3,
# resolved); CHG11 (successful) and CHG12 (unsuccessful), completed production changes.
NO_SERVICE = """
INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, priority, state,
                            service) VALUES
    ('servicenow:u1', 'servicenow', 'INC11', TIMESTAMPTZ '2026-11-05 10:00+00',
     TIMESTAMPTZ '2026-11-05 14:00+00', 2, 'resolved', NULL),
    ('servicenow:u2', 'servicenow', 'INC12', TIMESTAMPTZ '2026-11-06 10:00+00', NULL, 3, 'new',
     NULL),
    ('servicenow:u3', 'servicenow', 'INC13', TIMESTAMPTZ '2026-11-07 10:00+00',
     TIMESTAMPTZ '2026-11-07 16:00+00', 3, 'resolved', NULL);
INSERT INTO core.changes (change_id, source, number, type, state, outcome, opened_at, actual_end,
                          closed_at, service, backed_out, is_production, updated_at) VALUES
    ('servicenow:u1', 'servicenow', 'CHG11', 'normal', 'closed', 'successful',
     TIMESTAMPTZ '2026-11-01 09:00+00', TIMESTAMPTZ '2026-11-05 10:00+00',
     TIMESTAMPTZ '2026-11-06 10:00+00', NULL, false, true, TIMESTAMPTZ '2026-11-06 10:00+00'),
    ('servicenow:u2', 'servicenow', 'CHG12', 'normal', 'closed', 'unsuccessful',
     TIMESTAMPTZ '2026-11-01 09:00+00', TIMESTAMPTZ '2026-11-08 10:00+00',
     TIMESTAMPTZ '2026-11-09 10:00+00', NULL, false, true, TIMESTAMPTZ '2026-11-09 10:00+00');
"""


def test_records_without_a_service_are_one_row_apart_not_a_service_called_unknown(tmp_path):
    """The KPIs group records without a service under '(unknown)'. The index must not list it
    as a service (no page, not counted among the services, not ranked among them): it is one
    row after the services, with every record without a service counted in it. In November
    that is 3 incidents (INC11 is the P1-P2 one, INC12 is still open) and 2 changes, 1 failed
    (CHG12) -- not the 0 incidents the row showed while incidents without a service were left
    out of it but its changes, read from the KPI's '(unknown)' value, were not."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(NO_SERVICE)
        compute_metrics(con, as_of=datetime(2026, 12, 1, 2, tzinfo=UTC))
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    index = files.services_index.read_text()
    assert "<p>2 services, busiest first; pages for the 2 busiest." in index
    found = index_rows(index)
    assert list(found) == ["Email", "Payroll", "records without a service"]
    assert found["records without a service"][:6] == ["3", "1", "1", "2", "1", "0"]
    assert "(unknown)" not in index
    assert sorted(p.name for p in files.services_index.parent.iterdir()) == [
        "email-969ccbd3.html",
        "index.html",
        "payroll-53fe8dfb.html",
    ]


def test_the_busiest_services_come_first_whether_or_not_they_had_requests(tmp_path):
    """November: Zeta had 3 incidents and never a request, Email 2 incidents (INC1, INC2),
    Alpha 1 request and never an incident, Payroll nothing (INC3 is October's). Busiest first
    is Zeta (3), Email (2), Alpha (1), Payroll (0), and the 2 pages go to Zeta and Email -- not
    by name, as when a service that never had a request (or an incident) ranked as if it had
    no activity at all."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        for i in range(3):
            con.execute(
                "INSERT INTO core.incidents (incident_id, source, number, opened_at, priority, "
                "state, service) VALUES (?, 'servicenow', ?, "
                "TIMESTAMPTZ '2026-11-10 10:00+00', 3, 'closed', 'Zeta')",
                [f"servicenow:z{i}", f"INC2{i}"],
            )
        con.execute(
            "INSERT INTO core.requests (request_id, source, number, opened_at, state, service) "
            "VALUES ('servicenow:r1', 'servicenow', 'RITM1', TIMESTAMPTZ '2026-11-12 10:00+00', "
            "'closed', 'Alpha')"
        )
    files = write_reports(
        source,
        tmp_path / "reports",
        "IT Balanced Scorecard",
        "2026-12-01",
        NAMES,
        service_pages=2,
    )
    found = index_rows(files.services_index.read_text())
    assert list(found) == ["Zeta", "Email", "Alpha", "Payroll"]
    assert [found[name][0] for name in found] == ["3", "2", "0", "0"]
    assert found["Alpha"][5] == "1"
    assert sorted(p.name for p in files.services_index.parent.iterdir()) == [
        "email-969ccbd3.html",
        "index.html",
        "zeta-f0ac255c.html",
    ]


def test_scorecards_whose_names_slug_alike_keep_a_dated_copy_each(tmp_path):
    """Two scorecards named in Japanese both slug to 'unnamed', and 'IT Ops' / 'IT-Ops' both to
    'it-ops': each keeps its own dated copy of November, told apart by the first 8 hex digits of
    the SHA-256 of its scorecard id ('default': 37a8eec1, 'pilot': 07ae38b9), rather than the
    second one written replacing the first. A name no other shares keeps its plain name."""
    source = build_warehouse(tmp_path / "wh", pilot=True)
    with duckdb.connect(str(source)) as con:
        con.execute(PEOPLE)
    for titles, expected in [
        (
            {"default": "運用スコアカード", "pilot": "財務スコアカード"},
            ["a-people-2026-Q3", "unnamed-37a8eec1-2026-11", "unnamed-07ae38b9-2026-11"],
        ),
        (
            {"default": "IT Ops", "pilot": "IT-Ops"},
            ["a-people-2026-Q3", "it-ops-37a8eec1-2026-11", "it-ops-07ae38b9-2026-11"],
        ),
    ]:
        folder = tmp_path / "reports" / expected[1]
        files = write_reports(
            source, folder, "IT Balanced Scorecard", "2026-12-01", NAMES, scorecard_names=titles
        )
        assert sorted(p.name for p in files.dated) == sorted(f"{stem}.html" for stem in expected)
        assert sorted(p.name for p in folder.glob("*-20*")) == sorted(
            f"{stem}.{ext}" for stem in expected for ext in ("html", "md")
        )
        for stem, title in zip(expected[1:], titles.values(), strict=True):
            assert f"# {title}: November 2026" in (folder / f"{stem}.md").read_text()


def test_a_run_at_midnight_on_the_1st_reports_the_month_just_ended_in_the_calendar_zone(
    tmp_path,
):
    """Scored for real at 00:00 on December 1st in Europe/Berlin, with a monthly scorecard
    ('default') and a quarterly one whose id sorts first ('a-ops'): the service pages report
    November 2026, the month just ended, as the default scorecard's page does (December has not
    begun to count, Q4 is still running and Q3 is the quarterly page's). November in Berlin:
    K1 (31 Oct 23:30 UTC = 1 Nov 00:30 local) and K2 (15 Nov); K3 (30 Nov 23:30 UTC = 1 Dec
    00:30 local) is December's and K0 (15 Sep) is Q3's."""
    zone = "Europe/Berlin"
    warehouse = Warehouse.at(tmp_path / "wh" / "warehouse.duckdb")
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, "
            "priority, state, service) VALUES "
            "('servicenow:0', 'servicenow', 'K0', TIMESTAMPTZ '2026-09-15 10:00+00', "
            "TIMESTAMPTZ '2026-09-15 12:00+00', 3, 'closed', 'Payroll'), "
            "('servicenow:1', 'servicenow', 'K1', TIMESTAMPTZ '2026-10-31 23:30+00', "
            "TIMESTAMPTZ '2026-11-01 02:30+00', 2, 'closed', 'Payroll'), "
            "('servicenow:2', 'servicenow', 'K2', TIMESTAMPTZ '2026-11-15 10:00+00', "
            "TIMESTAMPTZ '2026-11-15 12:00+00', 3, 'closed', 'Payroll'), "
            "('servicenow:3', 'servicenow', 'K3', TIMESTAMPTZ '2026-11-30 23:30+00', NULL, 3, "
            "'new', 'Payroll')"
        )
        midnight = datetime(2026, 12, 1, tzinfo=ZoneInfo(zone))
        compute_metrics(con, timezone=zone, as_of=midnight, min_n=1)
        goals = {"threshold": 8, "target": 4, "perspective": "internal_process"}
        score_metrics(
            con,
            {},
            as_of=midnight,
            timezone=zone,
            scorecards={
                "default": {"incident_resolution_time": {**goals, "grain": "month"}},
                "a-ops": {"incident_resolution_time": {**goals, "grain": "quarter"}},
            },
        )
    files = write_reports(
        warehouse.working_path, tmp_path / "reports", "IT", "2026-12-01", {}, timezone=zone
    )
    assert "# a-ops: Q3 2026" in files.markdown
    assert "# IT: November 2026" in files.markdown
    index = files.services_index.read_text()
    assert "<h1>Services: November 2026</h1>" in index
    # K1 and K2 opened, K1 is P2, K3 still open; resolution median of 3 h and 2 h: 2.5 h.
    payroll = dict(zip(HEADERS[1:], index_rows(index)["Payroll"], strict=True))
    assert [payroll[h] for h in ("incidents", "P1-P2", "open incidents")] == ["2", "1", "1"]
    assert payroll["resolution h (median)"] == "2.5"


def test_control_characters_of_a_service_name_are_left_out_of_its_link_heading_and_title(
    tmp_path,
):
    """A name read from a source with a NUL and an ESC in it ('Sap\\x00\\x1bHR') shows as 'SapHR'
    in the index, the page's heading and its title, as report cells show such text; its page
    file is still named from the name as stored."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number, opened_at, priority, "
            "state, service) VALUES ('servicenow:c1', 'servicenow', 'INC31', "
            "TIMESTAMPTZ '2026-11-10 10:00+00', 3, 'closed', 'Sap' || chr(0) || chr(27) || 'HR')"
        )
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    index = files.services_index.read_text()
    found = index_rows(index)
    assert list(found) == ["Email", "SapHR", "Payroll"]
    assert found["SapHR"][0] == "1"
    page = next(p for p in files.services_index.parent.iterdir() if p.name.startswith("sap"))
    text = page.read_text()
    assert "<title>SapHR</title>" in text
    assert "<h1>SapHR: November 2026</h1>" in text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", index + text)


def test_a_service_kpi_is_never_rounded_onto_the_round_number_a_goal_would_be(tmp_path):
    """Email's SLA of 89.96% is short of a 90% goal and its availability of 99.996% is not
    perfect: with the columns' usual digits they would read 90.0 and 100.00, so they get one
    more each. Payroll's 87.34% and 99.5% are clear of any rounder number: 87.3 and 99.50."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        con.execute(
            "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
            "dimension_value, value, unit, period_complete) VALUES "
            "('sla_attainment', 'month', DATE '2026-11-01', 'service', 'Email', 89.96, '%', true), "
            "('service_availability', 'month', DATE '2026-11-01', 'service', 'Email', 99.996, "
            "'%', true), "
            "('sla_attainment', 'month', DATE '2026-11-01', 'service', 'Payroll', 87.34, '%', "
            "true), "
            "('service_availability', 'month', DATE '2026-11-01', 'service', 'Payroll', 99.5, "
            "'%', true)"
        )
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    found = index_rows(files.services_index.read_text())
    assert found["Email"][6:8] == ["89.96", "99.996"]
    assert found["Payroll"][6:8] == ["87.3", "99.50"]


def test_a_disabled_kpi_has_no_column_rather_than_a_column_of_blanks(tmp_path):
    """With service_availability disabled, the index and the service pages leave out the
    availability column, and keep the columns of the counts and of the other KPIs."""
    source = build_warehouse(tmp_path / "wh")
    with duckdb.connect(str(source)) as con:
        compute_metrics(
            con,
            as_of=datetime(2026, 12, 1, 2, tzinfo=UTC),
            overrides={"service_availability": {"enabled": False}},
        )
    files = write_reports(
        source, tmp_path / "reports", "IT Balanced Scorecard", "2026-12-01", NAMES
    )
    index = files.services_index.read_text()
    headers = re.findall(r"<th>(.*?)</th>", index)
    assert headers == [h for h in HEADERS if h != "availability %"]
    assert len(index_rows(index)["Email"]) == len(HEADERS) - 2
    page = (files.services_index.parent / "email-969ccbd3.html").read_text()
    assert "availability %" not in page
    assert "<td>SLA %</td>" in page
