"""The bi views BI users depend on: names, rows and values from a hand-built warehouse."""

import duckdb
import pytest

from tests.bi_fixture import build_bi_fixture, build_spellings_fixture
from warehouse.bi_views import BI_VIEWS
from warehouse.publish import publish


@pytest.fixture
def published(warehouse):
    build_bi_fixture(warehouse)
    publish(warehouse)
    with duckdb.connect(str(warehouse.published_path), read_only=True) as con:
        yield con


def rows(con, sql):
    return con.execute(sql).fetchall()


def test_every_view_opens_read_only_in_the_published_file_with_comments(published):
    views = rows(
        published, "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'bi'"
    )
    assert sorted(v for v, _ in views) == sorted(BI_VIEWS)
    assert all(comment for _, comment in views)
    for view in BI_VIEWS:
        published.execute(f"SELECT * FROM bi.{view}").fetchall()
    uncommented = rows(
        published,
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE schema_name = 'bi' AND comment IS NULL",
    )
    assert uncommented == []


def test_scorecard_current_holds_the_last_complete_period_of_each_grain(published):
    current = rows(
        published,
        "SELECT metric_id, grain, period_start::VARCHAR, period_last_day::VARCHAR, metric_name, "
        "unit, actual, status, escalate FROM bi.scorecard_current WHERE scorecard_id = 'it' "
        "ORDER BY grain",
    )
    # month: Nov and Dec 2025 were scored, Dec is the last (ends 31 Dec); week: 29 Dec is the last
    # scored week (ends Sunday 4 Jan 2026).
    assert current == [
        (
            "change_failure_rate",
            "month",
            "2025-12-01",
            "2025-12-31",
            "Change failure rate",
            "percent",
            25.0,
            "red",
            True,
        ),
        (
            "incident_resolution_time",
            "week",
            "2025-12-29",
            "2026-01-04",
            "Incident resolution time",
            "hours",
            3.0,
            "green",
            False,
        ),
    ]


def test_scorecard_to_date_is_the_running_headline_value_with_the_goals_in_force(published):
    to_date = rows(
        published,
        "SELECT metric_id, period_start::VARCHAR, partial, actual_to_date, numerator, "
        "denominator, threshold, target, stretch, owner FROM bi.scorecard_to_date "
        "WHERE scorecard_id = 'it' ORDER BY 1",
    )
    # Running rows with dimension 'all': change_failure_rate Jan 2026 (1 of 8 changes failed =
    # 12.5 %) and incident_resolution_time week of 5 Jan (12 h), each with the goals in force for
    # that period: change_failure_rate's from January (15 / 8 / 1), not December's scored 20 / 10
    # / 5. cloud_spend is not on the scorecard (no goals), the Email row is a dimension, and the
    # complete December row is not running.
    assert to_date == [
        ("change_failure_rate", "2026-01-01", True, 12.5, 1.0, 8.0, 15.0, 8.0, 1.0, "cab"),
        (
            "incident_resolution_time",
            "2026-01-05",
            True,
            12.0,
            None,
            None,
            8.0,
            4.0,
            2.0,
            "service desk",
        ),
    ]


def test_history_views_keep_every_scored_period(published):
    history = rows(
        published,
        "SELECT metric_id, period_start::VARCHAR, score FROM bi.metric_history "
        "WHERE scorecard_id = 'it' ORDER BY 1, 2",
    )
    assert history == [
        ("change_failure_rate", "2025-11-01", 80.0),
        ("change_failure_rate", "2025-12-01", 40.0),
        ("incident_resolution_time", "2025-12-22", 62.5),
        ("incident_resolution_time", "2025-12-29", 81.25),
    ]
    objectives = rows(
        published,
        "SELECT objective, period_start::VARCHAR, period_last_day::VARCHAR, score, status "
        "FROM bi.objective_history WHERE scorecard_id = 'it' ORDER BY 2",
    )
    assert objectives == [
        ("Stable change", "2025-11-01", "2025-11-30", 80.0, "green"),
        ("Stable change", "2025-12-01", "2025-12-31", 40.0, "red"),
    ]


def test_metric_restatements_say_what_moved_by_how_much_and_why(published):
    restated = rows(
        published,
        "SELECT metric_name, grain, period_start::VARCHAR, period_last_day::VARCHAR, unit, "
        "previous_value, restated_value, value_change, reason FROM bi.metric_restatements",
    )
    # 8 % -> 12.5 % is +4.5 points; a value that became NULL has no change, only its reason.
    assert restated == [
        (
            "Change failure rate",
            "month",
            "2025-11-01",
            "2025-11-30",
            "percent",
            8.0,
            12.5,
            4.5,
            None,
        ),
        (
            "Incident resolution time",
            "week",
            "2025-12-22",
            "2025-12-28",
            "hours",
            6.0,
            None,
            None,
            "too little data: n=0 below the minimum of 1",
        ),
    ]


def test_record_views_carry_the_core_records_with_durations(published):
    # INC0001 08:00 -> 20:00 = 12 h; OPS-7 unresolved. RITM0001 09:00 -> 09:00 next day = 24 h.
    assert rows(published, "SELECT number, resolution_hours FROM bi.incidents ORDER BY number") == [
        ("INC0001", 12.0),
        ("OPS-7", None),
    ]
    assert rows(published, "SELECT number, outcome FROM bi.changes") == [("CHG0001", "successful")]
    assert rows(published, "SELECT number, fulfilment_hours FROM bi.requests") == [
        ("RITM0001", 24.0)
    ]
    # 10.5 (AWS, Email) + 4.5 (Microsoft, Payroll) effective; billed 11.0 + 4.5.
    assert rows(
        published,
        "SELECT sum(effective_cost), sum(billed_cost), string_agg(provider, ',' ORDER BY provider) "
        "FROM bi.costs",
    ) == [(15.0, 15.5, "AWS,Microsoft")]


def test_durations_keep_the_milliseconds_the_kpis_count(warehouse):
    """Jira times carry milliseconds: 10:00:00.999 -> 11:00:00.001 is 3599.002 s, as the KPIs
    count it, not the 3600 whole-second boundaries it crosses."""
    build_bi_fixture(warehouse)
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, "
            "priority, state) VALUES ('jira:i3', 'jira', 'OPS-8', "
            "TIMESTAMPTZ '2026-01-07 10:00:00.999+00', TIMESTAMPTZ '2026-01-07 11:00:00.001+00', "
            "3, 'resolved')"
        )
    publish(warehouse)
    with duckdb.connect(str(warehouse.published_path), read_only=True) as con:
        (hours,) = con.execute(
            "SELECT resolution_hours FROM bi.incidents WHERE number = 'OPS-8'"
        ).fetchone()
    assert hours == pytest.approx(3599.002 / 3600, abs=1e-9)  # epoch seconds as doubles


def test_actions_open_lists_only_open_actions_soonest_due_first(published):
    # Of the four actions, one is resolved (its trigger cleared) and one closed (a decision):
    # the pilot's (due 5 Jan) and the main scorecard's red change failure rate (due 31 Jan) remain.
    assert rows(
        published,
        "SELECT action_id, scorecard_id, owner, trigger, due_date::VARCHAR, status "
        "FROM bi.actions_open",
    ) == [
        (
            "service_desk:incident_resolution_time:all:amber_two_periods:2025-12-22",
            "service_desk",
            "desk lead",
            "amber_two_periods",
            "2026-01-05",
            "open",
        ),
        (
            "it:change_failure_rate:all:red:2025-12-01",
            "it",
            "cab",
            "red",
            "2026-01-31",
            "open",
        ),
    ]


def test_each_scorecard_has_its_own_current_period_history_and_running_goals(published):
    # The pilot scored its weeks up to 22 Dec, the main scorecard up to 29 Dec: each scorecard's
    # current week is its own last scored week, not the latest week of any scorecard.
    assert rows(
        published,
        "SELECT scorecard_id, metric_id, grain, period_start::VARCHAR, actual, score, status, "
        "escalate, commentary, missing_commentary FROM bi.scorecard_current ORDER BY 1, 3",
    ) == [
        ("it", "change_failure_rate", "month", "2025-12-01", 25.0, 40.0, "red", True, None, True),
        (
            "it",
            "incident_resolution_time",
            "week",
            "2025-12-29",
            3.0,
            81.25,
            "green",
            False,
            None,
            False,
        ),
        (
            "service_desk",
            "incident_resolution_time",
            "week",
            "2025-12-22",
            6.0,
            33.3,
            "amber",
            True,
            "Two agents on leave",
            False,
        ),
    ]
    # The running week of 5 Jan (12 h, shared KPI) once per scorecard, each with its own goals.
    assert rows(
        published,
        "SELECT scorecard_id, period_start::VARCHAR, actual_to_date, threshold, target, owner "
        "FROM bi.scorecard_to_date WHERE metric_id = 'incident_resolution_time' ORDER BY 1",
    ) == [
        ("it", "2026-01-05", 12.0, 8.0, 4.0, "service desk"),
        ("service_desk", "2026-01-05", 12.0, 6.0, 3.0, "desk lead"),
    ]
    assert rows(
        published,
        "SELECT period_start::VARCHAR, score FROM bi.metric_history "
        "WHERE scorecard_id = 'service_desk' ORDER BY 1",
    ) == [("2025-12-15", 44.4), ("2025-12-22", 33.3)]
    assert rows(
        published,
        "SELECT scorecard_id, objective, period_last_day::VARCHAR, status FROM bi.objective_history "
        "WHERE scorecard_id = 'service_desk'",
    ) == [("service_desk", "Fast fixes", "2025-12-28", "amber")]


def test_a_period_whose_metrics_all_await_a_source_read_is_not_yet_the_current_one(warehouse):
    """The service desk pilot's week of 22 Dec awaits a ServiceNow read (its one metric pending,
    grey, no value): its current week is still 15 Dec, as on the executive summary, which
    reports the last period with a judged metric; the month and the main scorecard are as
    before."""
    build_bi_fixture(warehouse)
    with warehouse.connect() as con:
        con.execute(
            "UPDATE scorecard.metric_status SET actual = NULL, score = NULL, status = 'grey', "
            "pending = true, reason = 'pending: not complete until read again' "
            "WHERE scorecard_id = 'service_desk' AND period_start = DATE '2025-12-22'"
        )
    publish(warehouse)
    with duckdb.connect(str(warehouse.published_path), read_only=True) as con:
        assert rows(
            con,
            "SELECT scorecard_id, grain, period_start::VARCHAR, actual, status "
            "FROM bi.scorecard_current ORDER BY 1, 2",
        ) == [
            ("it", "month", "2025-12-01", 25.0, "red"),
            ("it", "week", "2025-12-29", 3.0, "green"),
            ("service_desk", "week", "2025-12-15", 5.0, "amber"),
        ]


def test_row_views_name_services_and_groups_as_the_kpis_count_them(warehouse):
    """ "email" (OPS-1, 5 Jan, the earliest record), "Email" (INC0002, 6 Jan) and "EMAIL" (the
    change and request) are one service; "service desk" (5 Jan), "Service Desk" and "SERVICE
    DESK" one group. Grouping a row view by service or group gives the KPIs' one value, spelled
    as OPS-1 spells it, with the KPIs' count; the name each record holds stays beside it."""
    build_spellings_fixture(warehouse)
    publish(warehouse)
    with duckdb.connect(str(warehouse.published_path), read_only=True) as con:
        # Resolved in 2 h and 4 h: n = 2, median 3 h, under "email" and "service desk".
        for dimension in ("service", "assignment_group"):
            assert rows(
                con,
                "SELECT dimension_value, n, value FROM kpi.metric_values "
                "WHERE metric_id = 'incident_resolution_time' AND grain = 'month' "
                f"AND period_start = '2026-01-01' AND dimension = '{dimension}'",
            ) == [("email" if dimension == "service" else "service desk", 2, 3.0)]
        assert rows(con, "SELECT service, count(*) FROM bi.incidents GROUP BY service") == [
            ("email", 2)
        ]
        assert rows(
            con, "SELECT assignment_group, count(*) FROM bi.incidents GROUP BY assignment_group"
        ) == [("service desk", 2)]
        assert rows(
            con,
            "SELECT number, service_as_recorded, assignment_group_as_recorded FROM bi.incidents "
            "ORDER BY number",
        ) == [("INC0002", "Email", "Service Desk"), ("OPS-1", "email", "service desk")]
        assert rows(
            con,
            "SELECT service, service_as_recorded, assignment_group, assignment_group_as_recorded "
            "FROM bi.changes",
        ) == [("email", "EMAIL", "service desk", "SERVICE DESK")]
        assert rows(
            con,
            "SELECT service, service_as_recorded, assignment_group, assignment_group_as_recorded "
            "FROM bi.requests",
        ) == [("email", "EMAIL", "service desk", "Service Desk")]
        # 10 (tagged "Email") + 20 ("EMAIL"): one service, as cloud spend counts it.
        assert rows(
            con,
            "SELECT service, sum(effective_cost), string_agg(service_as_recorded, ',' "
            "ORDER BY service_as_recorded) FROM bi.costs GROUP BY service",
        ) == [("email", 30.0, "EMAIL,Email")]
        assert rows(
            con,
            "SELECT dimension_value, value FROM kpi.metric_values WHERE metric_id = 'cloud_spend' "
            "AND grain = 'month' AND period_start = '2026-01-01' AND dimension = 'service'",
        ) == [("email", 30.0)]


def test_a_limit_on_a_row_view_holds_when_no_name_needs_another_spelling(warehouse):
    """A BI tool previews a view with LIMIT; with kpi.name_spellings empty (every source spells
    its names alike) the view must still stop there, not read the whole table."""
    build_bi_fixture(warehouse)
    with warehouse.connect() as con:
        for table, key in (("changes", "change_id"), ("requests", "request_id")):
            con.execute(
                f"INSERT INTO core.{table} SELECT * REPLACE ({key} || '-2' AS {key}) "
                f"FROM core.{table}"
            )
    publish(warehouse)
    with duckdb.connect(str(warehouse.published_path), read_only=True) as con:
        spellings = rows(con, "SELECT count(*) FROM kpi.name_spellings")
        limited = {
            view: (
                rows(con, f"SELECT count(*) FROM bi.{view}")[0][0],
                len(rows(con, f"SELECT * FROM bi.{view} LIMIT 1")),
            )
            for view in ("incidents", "changes", "requests", "costs")
        }
    assert spellings == [(0,)]
    assert limited == {view: (2, 1) for view in limited}
