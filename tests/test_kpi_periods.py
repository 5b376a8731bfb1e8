"""Complete periods, elapsed time and sparse dimensions of kpi.metric_values.

The running period is stored with period_complete = false and counts only the time elapsed up to
the run's as-of; dimension 'all' keeps a full period grid up to the as-of's period, every other
dimension has rows only where it has records.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from kpi_fixtures.support import AS_OF, load_fixture, values_by_key

from transforms.kpis import compute_metrics

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


def completeness(con, metric_id: str) -> dict[tuple[str, date], bool]:
    rows = con.execute(
        "SELECT grain, period_start, period_complete FROM kpi.metric_values "
        "WHERE metric_id = ? AND dimension = 'all'",
        [metric_id],
    ).fetchall()
    return {(grain, period): complete for grain, period, complete in rows}


def add_deployments(con, *deployments: tuple[str, str]) -> None:
    """Closed, successful normal changes: change_id "source:number" and the UTC day they ended
    (at 15:00, opened a day before, closed an hour after)."""
    rows = []
    for change_id, day in deployments:
        source, number = change_id.split(":")
        ended = datetime.fromisoformat(day).replace(hour=15, tzinfo=UTC)
        rows.append(
            [
                change_id,
                source,
                number,
                ended - timedelta(days=1),
                ended,
                ended + timedelta(hours=1),
            ]
        )
    con.executemany(
        "INSERT INTO core.changes (change_id, source, number, type, state, outcome, opened_at, "
        "actual_end, closed_at) VALUES (?, ?, ?, 'normal', 'closed', 'successful', ?, ?, ?)",
        rows,
    )


def test_running_period_is_stored_as_not_complete(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        # 23:00 on Sunday 2024-03-31 in Berlin: March, Q1 and the week of Mar 25 are still running
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        running = completeness(con, "incident_resolution_time")
        # one hour later (midnight in Berlin) they have ended
        compute_metrics(
            con, timezone="Europe/Berlin", min_n=1, as_of=datetime(2024, 3, 31, 22, tzinfo=UTC)
        )
        ended = completeness(con, "incident_resolution_time")
        nulls = con.execute(
            "SELECT count(*) FROM kpi.metric_values WHERE period_complete IS NULL"
        ).fetchall()[0][0]
    assert running[("month", FEB)] is True
    assert running[("week", date(2024, 3, 18))] is True
    assert running[("month", MAR)] is False
    assert running[("quarter", JAN)] is False
    assert running[("week", date(2024, 3, 25))] is False
    assert ended[("month", MAR)] is True
    assert ended[("quarter", JAN)] is True
    assert ended[("week", date(2024, 3, 25))] is True
    assert nulls == 0


def test_weekly_rates_count_elapsed_time_not_the_whole_as_of_day(warehouse):
    # Wednesday 2024-01-10 12:00 in Berlin: C1 ended at 10:00, C2 ends at 16:00 (after as_of)
    as_of = datetime(2024, 1, 10, 11, tzinfo=UTC)
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=as_of)
        values = values_by_key(con)
    week = values[("deployment_frequency", "week", date(2024, 1, 8), "all", "all")]
    # Monday 00:00 to Wednesday 12:00 = 2.5 days elapsed: 1 deployment / (2.5 / 7) weeks = 2.8
    assert week["denominator"] == pytest.approx(2.5 / 7)
    assert week["value"] == pytest.approx(2.8)
    days = values[("deployment_days_per_week", "week", date(2024, 1, 8), "all", "all")]
    assert days["value"] == pytest.approx(2.8)  # one deployment day in 2.5 days
    # Email: Jan 2 .. Jan 9 whole (8 x 1440) + Jan 10 up to noon (720) = 12240 agreed minutes;
    # O1 11:00-12:00 Berlin is 60 minutes down, O2 starts after it and is cut at as_of
    email = values[("service_availability", "month", JAN, "service", "Email")]
    assert (email["numerator"], email["denominator"]) == (12180, 12240)
    assert email["value"] == pytest.approx(100 * 12180 / 12240)


def test_day_one_of_a_month_scores_no_zero_for_the_new_month(warehouse):
    # midnight on March 1st in Berlin: February has just ended, March has no elapsed time
    as_of = datetime(2024, 2, 29, 23, tzinfo=UTC)
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=as_of)
        values = values_by_key(con)
        complete = completeness(con, "deployment_frequency")
    march = values[("deployment_frequency", "month", MAR, "all", "all")]
    assert march["value"] is None
    assert march["reason"] == "no time elapsed in the period by as_of"
    assert complete[("month", MAR)] is False
    assert complete[("month", FEB)] is True
    # February is whole: C9 (Feb 1 in Berlin) over 29 / 7 weeks
    assert values[("deployment_frequency", "month", FEB, "all", "all")]["value"] == pytest.approx(
        7 / 29
    )


SPARSE_INCIDENTS = """
INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, state, service,
    assignment_group, priority) VALUES
('A1', 'servicenow', 'A1', '2024-01-10 08:00+00', '2024-01-10 10:00+00', 'resolved', 'Alpha', 'G1', 3),
('B1', 'servicenow', 'B1', '2024-03-05 08:00+00', '2024-03-05 12:00+00', 'resolved', 'Beta', 'G2', 3)
"""


def test_dimensions_other_than_all_have_rows_only_where_they_have_records(warehouse):
    as_of = datetime(2024, 5, 15, tzinfo=UTC)
    with warehouse.connect() as con:
        con.execute(SPARSE_INCIDENTS)
        compute_metrics(con, min_n=1, as_of=as_of)
        by_service = con.execute(
            "SELECT dimension_value, period_start FROM kpi.metric_values "
            "WHERE metric_id = 'incident_resolution_time' AND grain = 'month' "
            "AND dimension = 'service' ORDER BY ALL"
        ).fetchall()
        total = con.execute(
            "SELECT period_start, value, reason, period_complete FROM kpi.metric_values "
            "WHERE metric_id = 'incident_resolution_time' AND grain = 'month' "
            "AND dimension = 'all' ORDER BY period_start"
        ).fetchall()
    assert by_service == [("Alpha", JAN), ("Beta", MAR)]
    no_data = "no data: no incidents resolved in period"
    # 'all' runs from the first month with data to the month of as_of: gaps and the silence after
    # the last record show as NULL with the reason
    assert total == [
        (JAN, 2.0, None, True),
        (FEB, None, no_data, True),
        (MAR, 4.0, None, True),
        (date(2024, 4, 1), None, no_data, True),
        (date(2024, 5, 1), None, no_data, False),
    ]


def test_rows_grow_with_service_periods_that_have_records_not_with_services_x_periods(warehouse):
    # 3,000 services, each with one incident in one of twelve months: a dense grid would be
    # 3,000 x 12 rows per metric and grain; the data has 3,000 (service, month) pairs
    with warehouse.connect() as con:
        con.execute(
            """
            INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, state,
                service, assignment_group, priority)
            SELECT 'I' || i, 'servicenow', 'I' || i,
                TIMESTAMPTZ '2023-01-05 08:00+00' + to_months(i % 12),
                TIMESTAMPTZ '2023-01-05 10:00+00' + to_months(i % 12),
                'resolved', 'svc-' || i, 'group-' || (i % 50), 1 + i % 5
            FROM range(3000) AS r(i)
            """
        )
        summary = compute_metrics(con, min_n=1, as_of=datetime(2024, 1, 1, tzinfo=UTC))
        service_months = con.execute(
            "SELECT count(*) FROM kpi.metric_values WHERE metric_id = 'incident_resolution_time' "
            "AND grain = 'month' AND dimension = 'service'"
        ).fetchall()[0][0]
        group_months = con.execute(
            "SELECT count(*) FROM kpi.metric_values WHERE metric_id = 'incident_resolution_time' "
            "AND grain = 'month' AND dimension = 'assignment_group'"
        ).fetchall()[0][0]
    assert service_months == 3000
    # groups i % 50 and months i % 12 meet in lcm(50, 12) = 300 combinations
    assert group_months == 300
    # per grain and metric: services + groups + priorities + sources + 'all' grid, not 3,000 x
    # periods; for the month grain of this metric: 3000 + 300 + 5 x 12 + 12 + 13 (Jan 2023 .. Jan
    # 2024)
    assert summary.rows_by_metric["incident_resolution_time"] < 3 * (3000 + 300 + 60 + 12 + 60)


def test_a_change_source_that_stopped_gives_no_deployment_rate_not_zero(warehouse):
    # Deployments on 2026-09-10 and 2026-11-05 (New York), none in October: a quiet month between
    # two deployments is a real zero; December, complete after the last deployment, may be the
    # change source gone quiet (no read of it is recorded), so it gets no value rather than 0 per
    # week (scored red). The running January counts on from zero.
    with warehouse.connect() as con:
        add_deployments(con, ("servicenow:C1", "2026-09-10"), ("servicenow:C2", "2026-11-05"))
        # 02:00 on Friday 2027-01-15 in New York
        as_of = datetime(2027, 1, 15, 7, tzinfo=UTC)
        compute_metrics(con, timezone="America/New_York", min_n=1, as_of=as_of)
        values = values_by_key(con)

    def monthly(metric: str, month: date) -> tuple:
        row = values[(metric, "month", month, "all", "all")]
        return row["value"], row["reason"]

    stopped = "no data: no deployments since the month starting 2026-11-01"
    for metric in ("deployment_frequency", "deployment_days_per_week"):
        # September: 1 deployment over 30 / 7 weeks; October: 0 over 31 / 7 weeks
        assert monthly(metric, date(2026, 9, 1)) == (pytest.approx(7 / 30), None)
        assert monthly(metric, date(2026, 10, 1)) == (0.0, None)
        assert monthly(metric, date(2026, 11, 1)) == (pytest.approx(7 / 30), None)
        assert monthly(metric, date(2026, 12, 1)) == (None, stopped)
        assert monthly(metric, date(2027, 1, 1)) == (0.0, None)
    # weekly: the week of Monday 2026-11-02 has C2; the weeks after it have no value
    week = values[("deployment_frequency", "week", date(2026, 11, 2), "all", "all")]
    assert week["value"] == pytest.approx(1.0)
    after = values[("deployment_frequency", "week", date(2026, 11, 9), "all", "all")]
    assert after["value"] is None
    assert after["reason"] == "no data: no deployments since the week starting 2026-11-02"


def test_a_quiet_period_its_sources_were_read_after_is_a_real_zero(warehouse):
    # The last deployments: Jira's on 2026-10-01, ServiceNow's on 2026-11-05 (New York). Both
    # are still read: ServiceNow at 01:00 on Jan 15, Jira last at 07:00 on Sunday Jan 10. A
    # period both were read after had no deployments: 0, not "no data". The week of Jan 4 ended
    # at midnight on Jan 11, after Jira's last read, so it may still lack Jira's records: not
    # complete (quiet as Jira has been), its value so far 0 and no reason given yet.
    with warehouse.connect() as con:
        add_deployments(con, ("jira:J1", "2026-10-01"), ("servicenow:C1", "2026-11-05"))
        con.execute(
            "INSERT INTO meta.source_reads VALUES "
            "('servicenow', TIMESTAMPTZ '2027-01-15 06:00+00', 'r2'), "
            "('jira', TIMESTAMPTZ '2027-01-10 12:00+00', 'r1')"
        )
        # 02:00 on Friday 2027-01-15 in New York
        as_of = datetime(2027, 1, 15, 7, tzinfo=UTC)
        compute_metrics(con, timezone="America/New_York", min_n=1, as_of=as_of)
        values = values_by_key(con)
        complete = completeness(con, "deployment_frequency")

    def value(grain: str, period: date) -> tuple:
        row = values[("deployment_frequency", grain, period, "all", "all")]
        return row["value"], row["reason"], complete[(grain, period)]

    assert value("month", date(2026, 12, 1)) == (0.0, None, True)
    assert value("week", date(2026, 12, 28)) == (0.0, None, True)
    assert value("week", date(2027, 1, 4)) == (0.0, None, False)
    week_of_jan_4 = values[("deployment_frequency", "week", date(2027, 1, 4), "all", "all")]
    assert week_of_jan_4["coverage"].endswith(
        "not complete until read again: jira read up to 2027-01-10 07:00"
    )


def test_a_zero_a_read_confirmed_stays_zero_once_the_source_is_not_read_for_a_week(warehouse):
    # ServiceNow's last deployments: 2026-11-03..05 (New York), week of Nov 2. Read at 02:00 on
    # Monday Nov 16, after the quiet week of Nov 9 ended: a real zero, scored red. Then it is down
    # for eight nights: on Tuesday Nov 24 it is no longer "still read", which holds no period
    # back (the week of Nov 16 is complete, no data), but the week of Nov 9 stays 0: the read on
    # Nov 16 answered for it. Nothing changed in it, so nothing is restated either.
    def weeks(con) -> dict[date, tuple]:
        rows = con.execute(
            "SELECT period_start, value, period_complete FROM kpi.metric_values "
            "WHERE metric_id = 'deployment_frequency' AND grain = 'week' AND dimension = 'all'"
        ).fetchall()
        return {period: (value, complete) for period, value, complete in rows}

    with warehouse.connect() as con:
        add_deployments(
            con,
            ("servicenow:C1", "2026-11-03"),
            ("servicenow:C2", "2026-11-04"),
            ("servicenow:C3", "2026-11-05"),
        )
        read = datetime(2026, 11, 16, 7, tzinfo=UTC)  # 02:00 in New York
        con.execute("INSERT INTO meta.source_reads VALUES ('servicenow', ?, 'r1')", [read])
        compute_metrics(con, timezone="America/New_York", min_n=1, as_of=read)
        before = weeks(con)
        eight_nights_later = compute_metrics(
            con, timezone="America/New_York", min_n=1, as_of=read + timedelta(days=8)
        )
        after = weeks(con)
        reason = con.execute(
            "SELECT reason FROM kpi.metric_values WHERE metric_id = 'deployment_frequency' "
            "AND grain = 'week' AND period_start = DATE '2026-11-16' AND dimension = 'all'"
        ).fetchall()[0][0]

    nov_2, nov_9, nov_16 = date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)
    assert before[nov_2] == (3.0, True)
    assert before[nov_9] == (0.0, True)
    assert after[nov_9] == (0.0, True)
    assert after[nov_16] == (None, True)
    assert reason == "no data: no deployments since the week starting 2026-11-02"
    assert eight_nights_later.restated == 0


def test_a_period_is_complete_only_once_its_sources_were_read_after_it_ended(warehouse):
    # ServiceNow deployed on 2026-11-05 and 2026-12-30 (New York) and was last read to its end at
    # 02:00 on Dec 31: down on the nights of Jan 1 and 2, so December may lack its last day. Jira,
    # retired after a deployment on 2026-09-10 and last read on Sep 20, holds nothing back.
    with warehouse.connect() as con:
        add_deployments(
            con,
            ("jira:J1", "2026-09-10"),
            ("servicenow:C1", "2026-11-05"),
            ("servicenow:C2", "2026-12-30"),
        )
        con.execute(
            "INSERT INTO meta.source_reads VALUES "
            "('servicenow', TIMESTAMPTZ '2026-12-31 07:00+00', 'r1'), "
            "('jira', TIMESTAMPTZ '2026-09-20 07:00+00', 'r0')"
        )
        # 02:00 on Sunday 2027-01-03 in New York
        compute_metrics(
            con, timezone="America/New_York", min_n=1, as_of=datetime(2027, 1, 3, 7, tzinfo=UTC)
        )
        rows = {
            (grain, period): (value, complete, coverage)
            for grain, period, value, complete, coverage in con.execute(
                "SELECT grain, period_start, value, period_complete, coverage "
                "FROM kpi.metric_values WHERE metric_id = 'deployment_frequency' "
                "AND dimension = 'all'"
            ).fetchall()
        }

    awaiting = "not complete until read again: servicenow read up to 2026-12-31 02:00"
    # December ended at midnight on Jan 1, after the last read: its value so far (1 deployment over
    # 31 / 7 weeks) is kept but not complete, so it is not scored, and the coverage says why.
    value, complete, coverage = rows[("month", date(2026, 12, 1))]
    assert (value, complete) == (pytest.approx(7 / 31), False)
    assert coverage.endswith(awaiting)
    # November, and the week of Dec 21 (ended Dec 28), ended before the read: complete.
    assert rows[("month", date(2026, 11, 1))][:2] == (pytest.approx(7 / 30), True)
    assert rows[("week", date(2026, 12, 21))][:2] == (0.0, True)
    # Q4 ends with December.
    assert rows[("quarter", date(2026, 10, 1))][1] is False
    assert rows[("quarter", date(2026, 10, 1))][2].endswith(awaiting)
    # September (Jira's, read Sep 20) and the quiet October are complete.
    assert rows[("month", date(2026, 9, 1))][:2] == (pytest.approx(7 / 30), True)
    assert rows[("month", date(2026, 10, 1))][:2] == (0.0, True)
    ended_before = [
        row
        for (grain, period), row in rows.items()
        if period < date(2026, 12, 1) and grain != "quarter"
    ]
    assert ended_before and not any(awaiting in coverage for *_, coverage in ended_before)
