"""Counter-examples from the KPI review, each on the hand-built fixture plus the record that broke it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from kpi_fixtures.support import AS_OF, load_fixture, values_by_key

from transforms.kpis import compute_metrics

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


def compute(warehouse, *statements: str, as_of: datetime = AS_OF, **settings) -> dict:
    with warehouse.connect() as con:
        load_fixture(con)
        for statement in statements:
            con.execute(statement)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=as_of, **settings)
        return values_by_key(con)


def test_cost_entered_before_its_tickets_gives_no_cost_per_ticket(warehouse):
    # Feb 10 in Berlin: February's whole cost (600) is in, but only I5 (Feb 1) and I7 (Feb 6) are
    # handled so far; 600 / 2 would be three times a month's 600 / 6-ish tickets
    values = compute(warehouse, as_of=datetime(2024, 2, 10, tzinfo=UTC))
    february = values[("cost_per_ticket", "month", FEB, "all", "all")]
    assert february["value"] is None
    assert february["reason"] == (
        "period not complete: cost inputs cover the whole period, tickets only up to as_of"
    )
    # January is over and wholly costed: 1000 / 6
    assert values[("cost_per_ticket", "month", JAN, "all", "all")]["value"] == pytest.approx(
        1000 / 6
    )


def test_costs_that_stop_mid_month_give_no_cost_per_ticket(warehouse):
    values = compute(
        warehouse,
        "UPDATE core.measures SET period_end = '2024-02-15' "
        "WHERE metric_id = 'service_desk_cost' AND period_start = '2024-02-01'",
    )
    february = values[("cost_per_ticket", "month", FEB, "all", "all")]
    assert february["value"] is None
    assert february["reason"] == "incomplete cost inputs: 15 of 29 days covered"


def test_cost_inputs_over_the_same_days_give_no_value_rather_than_counting_them_twice(warehouse):
    """January's cost (1000, the whole month) and a week's cost entered beside it (250, Monday
    8 to Sunday 14 January): summed, January would count those days twice, and the sum of the
    inputs' days (31 + 7) would pass for a covered month even with days missing. The week
    alone still gives its week a value."""
    values = compute(
        warehouse,
        "INSERT INTO core.measures (metric_id, period_start, period_end, value, dimension, "
        "dimension_value, source) VALUES ('service_desk_cost', '2024-01-08', '2024-01-14', 250, "
        "'all', 'all', 'measures')",
    )
    for grain in ("month", "quarter"):
        january = values[("cost_per_ticket", grain, JAN, "all", "all")]
        assert january["value"] is None, grain
        assert january["reason"] == "cost inputs overlap: 7 days entered more than once"
    week = values[("cost_per_ticket", "week", date(2024, 1, 8), "all", "all")]
    assert week["numerator"] == 250 and week["reason"] is None


def test_a_half_point_below_the_top_two_is_not_satisfied(warehouse):
    """January's answers: 5/5, 4/5, 9/10 satisfied; 3/5, 8/10 not; 6/5 out of its scale. Star
    ratings add 3.5/5 and 8.5/10 (half a point below the top two: not satisfied) and 4.5/5
    (within them): 4 satisfied of 8 answers on their scales = 50%."""
    values = compute(
        warehouse,
        "INSERT INTO core.survey_responses (response_id, source, survey, responded_at, score, "
        "scale_max, service) VALUES "
        "('Q7', 'measures', 'csat', '2024-01-11 12:00+00', 3.5, 5, 'Email'), "
        "('Q8', 'measures', 'csat', '2024-01-12 12:00+00', 8.5, 10, 'Email'), "
        "('Q9', 'measures', 'csat', '2024-01-13 12:00+00', 4.5, 5, 'Email')",
    )
    january = values[("csat", "month", JAN, "all", "all")]
    assert (january["numerator"], january["denominator"], january["value"]) == (4, 8, 50.0)


def test_a_scale_within_the_top_box_is_left_out(warehouse):
    """Thumbs up or down (0-1) under the default top two points would count every answer as
    satisfied: the three 0s and one 1 are left out, noted; January stays 3 of 5 (the fixture)."""
    values = compute(
        warehouse,
        "INSERT INTO core.survey_responses (response_id, source, survey, responded_at, score, "
        "scale_max, service) VALUES "
        + ", ".join(
            f"('T{n}', 'measures', 'csat', '2024-01-1{n} 12:00+00', {score}, 1, 'Email')"
            for n, score in enumerate((0, 0, 0, 1), start=1)
        ),
    )
    january = values[("csat", "month", JAN, "all", "all")]
    assert (january["numerator"], january["denominator"], january["value"]) == (3, 5, 60.0)
    assert "excluded: a scale up to 1.0 lies within the top 2 points (4)" in january["coverage"]


OPEN_WITH_RESOLVED_AT = """
INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, closed_at,
    priority, state, service, assignment_group, reopen_count, reassignment_count, made_sla) VALUES
('OPEN1', 'servicenow', 'INCO1', '2024-01-15 08:00+00', '2024-01-15 09:00+00', NULL, 3,
    'in_progress', 'Email', 'Group A', 1, 0, false),
('OPEN2', 'servicenow', 'INCO2', '2024-01-16 08:00+00', '2024-01-16 09:00+00', NULL, 3,
    'on_hold', 'Email', 'Group A', 0, 0, true),
('OPEN3', 'servicenow', 'INCO3', '2024-01-17 08:00+00', '2024-01-17 09:00+00', NULL, 3,
    'new', 'Email', 'Group A', 0, 0, true)
"""


def test_open_incidents_with_a_resolved_at_are_not_resolutions(warehouse):
    values = compute(warehouse, OPEN_WITH_RESOLVED_AT)
    resolution = values[("incident_resolution_time", "month", JAN, "all", "all")]
    # still I1 2, I2 4, I3 24, I4 6 only: median 5 of 4 incidents
    assert (resolution["value"], resolution["n"]) == (5.0, 4)
    assert "excluded: not resolved or closed (still open) (3)" in resolution["coverage"]
    # reopen rate stays 1 of 4 (OPEN1 was reopened but is not resolved)
    assert values[("reopen_rate", "month", JAN, "all", "all")]["value"] == 25.0
    # SLA attainment January stays 4 of 6 (OPEN2 and OPEN3 "made" SLA but are open)
    assert values[("sla_attainment", "month", JAN, "all", "all")]["value"] == pytest.approx(400 / 6)
    # cost per ticket January stays 1000 / 6 tickets handled
    assert values[("cost_per_ticket", "month", JAN, "all", "all")]["value"] == pytest.approx(
        1000 / 6
    )


def test_durations_do_not_depend_on_the_session_time_zone(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        # 24 real hours over the night Berlin moves its clocks forward (local 13:00 CET to
        # 14:00 CEST, 25 wall-clock hours)
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, "
            "state, service, assignment_group, priority) VALUES ('DST', 'servicenow', 'INCD', "
            "'2024-03-30 12:00+00', '2024-03-31 12:00+00', 'resolved', 'Email', 'Group A', 3)"
        )
        # a reader whose session runs in Berlin
        con.execute("SET TimeZone = 'Europe/Berlin'")
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        values = values_by_key(con)
    week = values[("incident_resolution_time", "week", date(2024, 3, 25), "all", "all")]
    # DST 24 h and I9 4 h: median 14
    assert week["value"] == 14.0
    email_march = values[("service_availability", "month", MAR, "service", "Email")]
    # Mar 31 has 23 hours in Berlin, 22 of them elapsed by as_of
    assert email_march["denominator"] == 30 * 1440 + 1320


def test_change_failure_rate_and_deployment_frequency_count_the_same_changes(warehouse):
    values = compute(warehouse)
    for period in (JAN, FEB):
        changes = values[("change_failure_rate", "month", period, "all", "all")]["denominator"]
        deployments = values[("deployment_frequency", "month", period, "all", "all")]["numerator"]
        assert changes == deployments
    # February: C9 only (C7 is not a production change), and it failed
    february = values[("change_failure_rate", "month", FEB, "all", "all")]
    assert (february["numerator"], february["denominator"]) == (1, 1)


def test_a_cancelled_incident_does_not_mark_its_change_failed(warehouse):
    values = compute(
        warehouse,
        "INSERT INTO core.incidents (incident_id, source, number, opened_at, closed_at, state, "
        "caused_by_change_id) VALUES ('ICX', 'servicenow', 'INCX', '2024-01-12 08:00+00', "
        "'2024-01-12 09:00+00', 'canceled', 'C1')",
    )
    # still C2, C3, C4 of C1, C2, C3, C4, C6
    january = values[("change_failure_rate", "month", JAN, "all", "all")]
    assert (january["numerator"], january["denominator"]) == (3, 5)


def test_an_incident_opened_after_as_of_does_not_mark_its_change_failed(warehouse):
    # I8, which blames C2, was opened on Feb 28: a run scoring the night of Feb 1 (retried or
    # backfilled later) knows only C3 and C4 failed of January's C1, C2, C3, C4, C6; a run after
    # Feb 28 counts C2 too.
    failed_of_january = []
    with warehouse.connect() as con:
        load_fixture(con)
        for as_of in (datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 2, 29, tzinfo=UTC)):
            compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=as_of)
            january = values_by_key(con)[("change_failure_rate", "month", JAN, "all", "all")]
            failed_of_january.append((january["numerator"], january["denominator"]))
    assert failed_of_january == [(2, 5), (3, 5)]


PRINTING_INCIDENT = (
    "INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, state, "
    "service, assignment_group, priority) VALUES ('P1', 'servicenow', 'INCP', "
    "'2024-01-05 08:00+00', '2024-01-05 09:00+00', 'resolved', 'Printing', 'Group C', 4)"
)


def test_availability_covers_the_services_with_outage_records_by_default(warehouse):
    values = compute(warehouse, PRINTING_INCIDENT)
    # Printing has incidents but no outage records, so no availability commitment: the headline
    # stays Email + VPN (74610 / 74760 in January)
    assert ("service_availability", "month", JAN, "service", "Printing") not in values
    january = values[("service_availability", "month", JAN, "all", "all")]
    assert (january["numerator"], january["denominator"]) == (74610, 74760)


def test_availability_commitments_come_from_the_scorecard(warehouse):
    values = compute(
        warehouse,
        PRINTING_INCIDENT,
        overrides={
            "service_availability": {"params": {"committed_services": ["Email", "Printing"]}}
        },
    )
    # Email 42990 / 43080; Printing from Jan 5, 27 days without outage: 38880 / 38880
    january = values[("service_availability", "month", JAN, "all", "all")]
    assert (january["numerator"], january["denominator"]) == (42990 + 38880, 43080 + 38880)
    assert ("service_availability", "month", JAN, "service", "VPN") not in values
    worst = values[("service_availability_worst", "month", JAN, "all", "all")]
    assert worst["value"] == pytest.approx(100 * 42990 / 43080)
    assert "lowest: Email" in worst["coverage"]


# Jira stages no change type: J1 (unsuccessful, opened 08:00, implemented 10:00 Jan 12, 2 h) and
# J2 (outcome unknown, 06:00 -> 10:00 Jan 13, 4 h)
CHANGES_OF_UNKNOWN_TYPE = """
INSERT INTO core.changes (change_id, source, number, type, state, outcome, actual_end, closed_at,
    service, assignment_group, backed_out, is_production, opened_at) VALUES
('J1', 'jira', 'OPS-1', NULL, 'closed', 'unsuccessful', '2024-01-12 10:00+00', NULL, 'Email',
    'Group A', false, NULL, '2024-01-12 08:00+00'),
('J2', 'jira', 'OPS-2', NULL, 'closed', NULL, '2024-01-13 10:00+00', NULL, 'Email', 'Group A',
    false, NULL, '2024-01-13 06:00+00')
"""


def test_a_change_type_filter_counts_changes_of_unknown_type_and_notes_them(warehouse):
    normal_and_emergency = {"params": {"change_types": ["normal", "emergency"]}}
    values = compute(
        warehouse,
        CHANGES_OF_UNKNOWN_TYPE,
        overrides={
            metric: normal_and_emergency
            for metric in ("change_failure_rate", "deployment_frequency", "change_lead_time")
        },
    )
    # January: C1, C2, C3, C4 (normal / emergency; C6 is standard, C5 cancelled) and J1, J2 of
    # unknown type; failed C2 (caused I8), C3 (outcome), C4 (backed out), J1 (outcome): 4 of 6
    # (dropping J1 and J2 would give 3 of 4)
    cfr = values[("change_failure_rate", "month", JAN, "all", "all")]
    assert (cfr["numerator"], cfr["denominator"]) == (4, 6)
    # J2 carries both notes, each counted on its own
    assert cfr["coverage"] == (
        "6 changes; 4 failed; excluded: cancelled (1), outcome unknown, counted as not failed (1), "
        "type unknown, counted as one of change_types (2)"
    )
    deployments = values[("deployment_frequency", "month", JAN, "all", "all")]
    assert deployments["value"] == pytest.approx(6 / (31 / 7))
    assert deployments["coverage"] == (
        "6 deployments; excluded: cancelled (1), type unknown, counted as one of change_types (2)"
    )
    # lead time: C1 48, C2 6, C3 24, J1 2, J2 4 (C4 has no actual end): median 6 of 5
    lead_time = values[("change_lead_time", "month", JAN, "all", "all")]
    assert (lead_time["value"], lead_time["n"]) == (6.0, 5)
    assert "type unknown, counted as one of change_types (2)" in lead_time["coverage"]


PAGERDUTY_INCIDENTS = """
INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, state, priority,
    service, assignment_group, reopen_count, reassignment_count)
SELECT 'PD' || i, 'pagerduty', 'PD' || i, TIMESTAMPTZ '2024-01-16 08:00+00',
    TIMESTAMPTZ '2024-01-16 09:00+00', 'resolved', 2, 'Email', 'Group A', NULL, NULL
FROM range(4) AS t(i)
"""


def test_incidents_of_unknown_reopen_count_are_left_out_of_the_reopen_rate(warehouse):
    values = compute(warehouse, PAGERDUTY_INCIDENTS)
    # January: I2 reopened of I1-I4 (I6 canceled); the 4 PagerDuty incidents never record a
    # reopen count: still 1 of 4 = 25 %, not 1 of 8
    january = values[("reopen_rate", "month", JAN, "all", "all")]
    assert (january["value"], january["numerator"], january["denominator"]) == (25.0, 1, 4)
    assert january["coverage"] == (
        "4 incidents resolved; 1 reopened; excluded: canceled (1), "
        "excluded: reopen_count unknown (4)"
    )
    # PagerDuty alone has no reopen rate rather than 0 %
    pagerduty = values[("reopen_rate", "month", JAN, "source", "pagerduty")]
    assert (pagerduty["value"], pagerduty["n"]) == (None, 0)
    assert pagerduty["reason"] == "no data: no incidents resolved in period"


# S4 completed and S5 breached, neither with a breached flag, Jan 16 and 17
SLA_CLOCKS_OF_UNKNOWN_OUTCOME = """
INSERT INTO core.sla_records (sla_record_id, source, task_id, sla_name, stage, breached,
    start_time, end_time, service, priority) VALUES
('S4', 'jira', 'J4', 'Time to resolution', 'completed', NULL, '2024-01-15 12:00+00',
    '2024-01-16 12:00+00', 'Email', 3),
('S5', 'jira', 'J5', 'Time to resolution', 'breached', NULL, '2024-01-15 12:00+00',
    '2024-01-17 12:00+00', 'Email', 3)
"""


def test_a_stopped_sla_clock_of_unknown_outcome_is_not_taken_for_met(warehouse):
    values = compute(warehouse, SLA_CLOCKS_OF_UNKNOWN_OUTCOME)
    # January: I1, I3, I4 made SLA of I1-I4, S1 met of S1, S2; S5's stage says breached: 4 of 7
    # (S4 taken for met would give 5 of 8)
    january = values[("sla_attainment", "month", JAN, "all", "all")]
    assert (january["numerator"], january["denominator"]) == (4, 7)
    assert january["value"] == pytest.approx(400 / 7)
    assert january["coverage"] == (
        "7 SLA records; 4 met; excluded: breached unknown (1), excluded: canceled (1)"
    )
    # jira: S1 of S1, S2, S5
    jira = values[("sla_attainment", "month", JAN, "source", "jira")]
    assert jira["value"] == pytest.approx(100 / 3)
    assert jira["coverage"] == "3 SLA records; 1 met; excluded: breached unknown (1)"


def test_it_spend_of_two_months_of_a_quarter_gives_no_quarterly_share_of_revenue(warehouse):
    """Revenue is in for all of Q1, IT spend for January and February only (finance has not
    closed March): 110,000 / 6,000,000 would understate Q1's share by about a third."""
    values = compute(
        warehouse,
        "INSERT INTO core.measures (metric_id, period_start, period_end, value, dimension, "
        "dimension_value, source) VALUES "
        "('revenue', '2024-02-01', '2024-02-29', 2000000, 'all', 'all', 'measures'), "
        "('revenue', '2024-03-01', '2024-03-31', 2000000, 'all', 'all', 'measures'), "
        "('it_spend', '2024-02-01', '2024-02-29', 60000, 'all', 'all', 'measures')",
        as_of=datetime(2024, 4, 15, tzinfo=UTC),
    )
    assert values[("it_spend_pct_revenue", "month", FEB, "all", "all")]["value"] == 3.0
    assert values[("it_spend_pct_revenue", "month", MAR, "all", "all")]["reason"] == (
        "no data: no spend inputs for period"
    )
    quarter = values[("it_spend_pct_revenue", "quarter", JAN, "all", "all")]
    assert (quarter["value"], quarter["numerator"], quarter["denominator"]) == (
        None,
        110000,
        6000000,
    )
    assert quarter["reason"] == "incomplete spend inputs: 60 of 91 days covered"


@pytest.mark.parametrize(
    ("outage", "planned", "unplanned_minutes"),
    [
        # A window of 02:00-04:00 that overran: monitoring recorded 02:00-05:00 as an outage.
        (("OUT-1", "02:00", "05:00"), ("OUT-2", "02:00", "04:00"), 60),
        # The same with ids that sort the other way: the overlap stays planned.
        (("OUT-9", "02:00", "05:00"), ("OUT-2", "02:00", "04:00"), 60),
        # A window taken while the service was already down: only the time outside it is lost.
        (("OUT-1", "01:00", "05:00"), ("OUT-2", "02:00", "04:00"), 120),
        # An outage wholly inside the window loses nothing more.
        (("OUT-1", "02:30", "03:00"), ("OUT-2", "02:00", "04:00"), 0),
    ],
)
def test_unplanned_downtime_within_planned_maintenance_counts_as_planned(
    warehouse, outage, planned, unplanned_minutes
):
    """CRM, watched from Jan 1 (Berlin), January: agreed 31 x 1440 = 44,640 minutes less the
    window's 120 planned minutes; availability = (44,520 - unplanned) / 44,520."""

    def row(outage_id: str, kind: str, begin: str, end: str) -> str:
        return (
            f"('{outage_id}', 'servicenow', 'CRM', '{kind}', "
            f"'2024-01-10 {begin}+01', '2024-01-10 {end}+01')"
        )

    values = compute(
        warehouse,
        "INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, state, "
        "service, priority) VALUES ('CRM-0', 'servicenow', 'CRM0', '2024-01-01 00:00+01', "
        "'2024-01-01 01:00+01', 'resolved', 'CRM', 3)",
        "INSERT INTO core.outages (outage_id, source, service, type, begin_at, end_at) VALUES "
        f"{row(outage[0], 'outage', *outage[1:])}, {row(planned[0], 'planned', *planned[1:])}",
    )
    january = values[("service_availability", "month", JAN, "service", "CRM")]
    assert (january["numerator"], january["denominator"]) == (44520 - unplanned_minutes, 44520)


def test_a_metric_without_any_record_yet_stays_on_the_scorecard_saying_so(warehouse):
    """No outage record yet (a new instance, or a source without outages): availability has no
    fact at all. It still gets each grain's last complete and running period, without a value
    and with the reason, so the scorecard shows it grey instead of leaving it out."""
    from transforms.scoring import score_metrics

    with warehouse.connect() as con:
        load_fixture(con)
        con.execute("DELETE FROM core.outages")
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        values = con.execute(
            "SELECT grain, period_start, value, period_complete, reason FROM kpi.metric_values "
            "WHERE metric_id = 'service_availability' ORDER BY ALL"
        ).fetchall()
        score_metrics(
            con,
            {"service_availability": {"threshold": 99.0, "target": 99.9}},
            as_of=AS_OF,
            timezone="Europe/Berlin",
        )
        status = con.execute(
            "SELECT period_start, status, reason FROM scorecard.metric_status "
            "WHERE metric_id = 'service_availability'"
        ).fetchall()
    # As of 23:00 on Sunday 31 March 2024 in Berlin: March, Q1 and that week are running.
    reason = "no data: no service-days yet"
    assert values == [
        ("month", FEB, None, True, reason),
        ("month", MAR, None, False, reason),
        ("quarter", date(2023, 10, 1), None, True, reason),
        ("quarter", JAN, None, False, reason),
        ("week", date(2024, 3, 18), None, True, reason),
        ("week", date(2024, 3, 25), None, False, reason),
    ]
    assert status == [(FEB, "grey", reason)]


@pytest.mark.parametrize("service", ["İK Portalı", "ΤΑΜΕΙΟΣ"])
def test_a_committed_service_matches_in_any_script(warehouse, service):
    """Python lower-cases "İ" and a final "Σ" unlike the warehouse; the configured name must still
    match its records: 6 hours down on Jan 10, watched from that Berlin day, 22 days x 1440."""
    values = compute(
        warehouse,
        "INSERT INTO core.outages (outage_id, source, service, type, begin_at, end_at) VALUES "
        f"('O9', 'servicenow', '{service}', 'outage', '2024-01-10 10:00+00', "
        "'2024-01-10 16:00+00')",
        overrides={"service_availability": {"params": {"committed_services": [service]}}},
    )
    january = values[("service_availability", "month", JAN, "service", service)]
    assert (january["numerator"], january["denominator"]) == (22 * 1440 - 360, 22 * 1440)
    headline = values[("service_availability", "month", JAN, "all", "all")]
    assert headline["value"] == pytest.approx(100 * (22 * 1440 - 360) / (22 * 1440))
