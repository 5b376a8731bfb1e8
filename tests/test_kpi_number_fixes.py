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
