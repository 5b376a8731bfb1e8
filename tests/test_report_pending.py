"""The pages and the run summary while a period awaits a source read (metric_status.pending).

On Dec 2, ServiceNow was last read on Oct 31: November is pending for the metrics it feeds, and
the pages must neither judge it on the values so far nor let it hide what is already known.
"""

from datetime import UTC, date, datetime

from pipelines.run_summary import StatusChange, scorecard_news
from reports import write_reports
from transforms.scoring import score_metrics

AWAITING = "not complete until read again: servicenow read up to 2026-10-31 02:00"
SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
DEC_2ND = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
CSAT = {"threshold": 75, "target": 85, "objective": "Delight", "perspective": "customer"}
SLA = {"threshold": 90, "target": 95, "objective": "Delight", "perspective": "customer"}
CHANGE_FAILURES = {
    "threshold": 15,
    "target": 10,
    "objective": "Change",
    "perspective": "internal_process",
    "owner": "Jane",
}


def insert(con, rows) -> None:
    """Monthly headline values: (metric_id, period_start, value, period_complete, coverage)."""
    con.executemany(
        "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
        "dimension_value, value, unit, period_complete, coverage) "
        "VALUES (?, 'month', ?, 'all', 'all', ?, '%', ?, ?)",
        rows,
    )


def insert_email_sla_so_far(con) -> None:
    con.execute(
        "INSERT INTO kpi.metric_values (metric_id, grain, period_start, dimension, "
        "dimension_value, value, unit, period_complete, coverage) VALUES ('sla_attainment', "
        "'month', DATE '2026-11-01', 'service', 'Email', 41, '%', false, ?)",
        [AWAITING],
    )


def page(warehouse, tmp_path):
    return write_reports(warehouse.working_path, tmp_path / "reports", "IT", "2026-12-02", {})


def test_the_overall_has_no_verdict_while_a_perspective_is_pending(warehouse, tmp_path):
    """internal_process holds a red backlog and a metric awaiting its read, so it is grey; the mean
    of the two other perspectives (80.5, green) would hide the red."""
    goals = {
        "change_failure_rate": CHANGE_FAILURES,
        "incident_backlog": {
            "threshold": 100,
            "target": 50,
            "objective": "Change",
            "perspective": "internal_process",
        },
        "csat": CSAT,
        "cost_per_ticket": {
            "threshold": 40,
            "target": 25,
            "objective": "Spend",
            "perspective": "financial",
        },
    }
    with warehouse.connect() as con:
        insert(
            con,
            [
                ("change_failure_rate", OCT, 12, True, None),
                ("change_failure_rate", NOV, 30, False, AWAITING),
                ("incident_backlog", OCT, 400, True, None),
                ("incident_backlog", NOV, 400, True, None),
                ("csat", OCT, 90, True, None),
                ("csat", NOV, 90, True, None),
                ("cost_per_ticket", OCT, 20, True, None),
                ("cost_per_ticket", NOV, 20, True, None),
            ],
        )
        score_metrics(con, goals, as_of=DEC_2ND)
    markdown = page(warehouse, tmp_path).markdown
    assert markdown.startswith("# IT: November 2026")
    # coverage: the mean of internal_process's 50% (one of its two metrics scored) and 100% twice
    assert "As of 2026-12-02. Overall **–** (grey), coverage 83%." in markdown


def test_a_month_whose_metrics_are_all_pending_is_not_the_current_period(warehouse, tmp_path):
    goals = {"change_failure_rate": CHANGE_FAILURES, "sla_attainment": SLA}
    with warehouse.connect() as con:
        insert(
            con,
            [
                ("change_failure_rate", SEP, 12, True, None),
                ("change_failure_rate", OCT, 8, True, None),
                ("change_failure_rate", NOV, 30, False, AWAITING),
                ("sla_attainment", SEP, 96, True, None),
                ("sla_attainment", OCT, 97, True, None),
                ("sla_attainment", NOV, 41, False, AWAITING),
            ],
        )
        score_metrics(con, goals, as_of=DEC_2ND)
    files = page(warehouse, tmp_path)
    assert files.markdown.startswith("# IT: October 2026")
    assert "## Status changes since September 2026" in files.markdown
    assert (tmp_path / "reports" / "it-2026-10.html").exists()
    assert not (tmp_path / "reports" / "it-2026-11.html").exists()


def test_a_scorecard_with_only_a_pending_period_still_gets_its_page(warehouse, tmp_path):
    with warehouse.connect() as con:
        insert(con, [("sla_attainment", NOV, 41, False, AWAITING)])
        score_metrics(con, {"sla_attainment": SLA}, as_of=DEC_2ND)
    assert page(warehouse, tmp_path).markdown.startswith("# IT: November 2026")


def test_a_red_with_an_open_action_stays_on_the_page_while_its_next_month_is_pending(
    warehouse, tmp_path
):
    """change_failure_rate was red in October; its action, due Nov 15, is still open. November
    is pending for it and complete for csat, so the page is November's."""
    with warehouse.connect() as con:
        insert(
            con,
            [
                ("change_failure_rate", SEP, 12, True, None),
                ("change_failure_rate", OCT, 20, True, None),
                ("change_failure_rate", NOV, 20, False, AWAITING),
                ("csat", OCT, 90, True, None),
                ("csat", NOV, 90, True, None),
            ],
        )
        score_metrics(con, {"change_failure_rate": CHANGE_FAILURES, "csat": CSAT}, as_of=DEC_2ND)
        actions = con.execute(
            "SELECT metric_id, status, due_date FROM scorecard.actions"
        ).fetchall()
    assert actions == [("change_failure_rate", "open", date(2026, 11, 15))]
    markdown = page(warehouse, tmp_path).markdown
    attention = markdown.split("## Reds and escalations")[1].split("##")[0]
    assert (
        "| change_failure_rate (October 2026; November 2026 pending) | RED | Jane | 2026-11-15 |"
        in attention
    )


def test_red_without_commentary_is_flagged_for_the_latest_judged_period_only(warehouse):
    """csat was red in September, then green; sla_attainment was red in October and November is
    pending: only October's red is still to explain."""
    with warehouse.connect() as con:
        insert(
            con,
            [
                ("csat", SEP, 60, True, None),
                ("csat", OCT, 90, True, None),
                ("csat", NOV, 90, True, None),
                ("sla_attainment", OCT, 80, True, None),
                ("sla_attainment", NOV, 99, False, AWAITING),
            ],
        )
        score_metrics(con, {"csat": CSAT, "sla_attainment": SLA}, as_of=DEC_2ND)
        flagged = con.execute(
            "SELECT record_key FROM scorecard.data_quality "
            "WHERE problem = 'red with no commentary for its period'"
        ).fetchall()
    assert flagged == [("default/sla_attainment/2026-10-01",)]


def test_service_pages_leave_a_pending_periods_value_so_far_blank(warehouse, tmp_path):
    with warehouse.connect() as con:
        insert(
            con,
            [
                ("csat", OCT, 90, True, None),
                ("csat", NOV, 90, True, None),
                ("sla_attainment", OCT, 97, True, None),
                ("sla_attainment", NOV, 41, False, AWAITING),
            ],
        )
        insert_email_sla_so_far(con)
        score_metrics(con, {"csat": CSAT, "sla_attainment": SLA}, as_of=DEC_2ND)
    assert page(warehouse, tmp_path).markdown.startswith("# IT: November 2026")
    services = (tmp_path / "reports" / "services" / "index.html").read_text()
    email = services[services.index(">Email<") :].split("</tr>")[0]
    assert ">41.0<" not in email
    assert "A KPI is blank (–) while its period is not complete" in services


def test_a_pending_period_is_no_status_change_on_the_page_or_in_the_run_summary(
    warehouse, tmp_path
):
    """sla_attainment was green in October and awaits its read for November; change_failure_rate
    went from green to amber in a complete November."""
    with warehouse.connect() as con:
        insert(
            con,
            [
                ("sla_attainment", OCT, 97, True, None),
                ("sla_attainment", NOV, 41, False, AWAITING),
                ("change_failure_rate", OCT, 8, True, None),
                ("change_failure_rate", NOV, 12, True, None),
            ],
        )
        score_metrics(
            con, {"sla_attainment": SLA, "change_failure_rate": CHANGE_FAILURES}, as_of=DEC_2ND
        )
    _, changes = scorecard_news(warehouse.working_path)
    assert changes == [
        StatusChange("default", "change_failure_rate", "month", NOV, "green", "amber")
    ]
    markdown = page(warehouse, tmp_path).markdown
    changed = markdown.split("## Status changes since October 2026")[1].split("##")[0]
    assert "change_failure_rate" in changed
    assert "sla_attainment" not in changed
