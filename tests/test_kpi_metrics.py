"""Every KPI at every grain on hand-built records (tests/kpi_fixtures/fixture.sql), in Europe/Berlin.

Expected values are worked out by hand below; durations are hours between UTC instants. Berlin is
UTC+1 until 2024-03-31 01:00 UTC and UTC+2 after, so records near midnight UTC change period.
"""

from __future__ import annotations

from datetime import date

import pytest
from kpi_fixtures.support import AS_OF, load_fixture, values_by_key

from transforms.kpis import compute_metrics
from warehouse import Warehouse

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
Q1 = date(2024, 1, 1)


@pytest.fixture(scope="module")
def berlin(tmp_path_factory) -> dict[tuple, dict]:
    warehouse = Warehouse.at(tmp_path_factory.mktemp("kpi") / "warehouse.duckdb")
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        return values_by_key(con)


# (metric, grain, period, dimension, dimension_value, expected value, worked arithmetic)
EXPECTED = [
    # incident resolution: Jan I1 2, I2 4, I3 24, I4 6 (I5 resolved 00:30 Feb 1 Berlin; I6 canceled)
    ("incident_resolution_time", "month", JAN, "all", "all", 5.0),  # (4 + 6) / 2
    ("incident_resolution_time_p90", "month", JAN, "all", "all", 18.6),  # 6 + 0.7 x (24 - 6)
    ("incident_resolution_time", "month", FEB, "all", "all", 3.5),  # single record I5
    ("incident_resolution_time_p90", "month", FEB, "all", "all", 3.5),
    ("incident_resolution_time", "month", MAR, "all", "all", 4.0),  # I10 1, I9 4, I8 72
    ("incident_resolution_time_p90", "month", MAR, "all", "all", 58.4),  # 4 + 0.8 x 68
    ("incident_resolution_time", "quarter", Q1, "all", "all", 4.0),  # [1,2,3.5,4,4,6,24,72]
    ("incident_resolution_time_p90", "quarter", Q1, "all", "all", 38.4),  # 24 + 0.3 x 48
    ("incident_resolution_time", "week", date(2024, 1, 1), "all", "all", 3.0),  # I1 2, I2 4
    ("incident_resolution_time", "week", date(2024, 1, 8), "all", "all", 24.0),  # I3 Thu 01:00
    ("incident_resolution_time", "week", date(2024, 1, 29), "all", "all", 3.5),  # I5 Thu Feb 1
    ("incident_resolution_time", "week", date(2024, 2, 26), "all", "all", 72.0),  # I8 Sat Mar 2
    ("incident_resolution_time", "week", date(2024, 3, 25), "all", "all", 4.0),  # I9, DST Sunday
    ("incident_resolution_time", "month", JAN, "priority", "1", 2.0),  # I1
    ("incident_resolution_time", "month", JAN, "assignment_group", "Group B", 15.0),  # (6+24)/2
    ("incident_resolution_time", "month", JAN, "service", "Email", 3.0),  # I1 2, I2 4
    # time to restore: P1/P2 or change-caused: Jan I1 2, I3 24; Mar I8 72, I9 4, I10 1 (cites CX)
    ("mean_time_to_restore", "month", JAN, "all", "all", 13.0),
    ("mean_time_to_restore", "month", MAR, "all", "all", 4.0),
    ("mean_time_to_restore", "quarter", Q1, "all", "all", 4.0),  # [1,2,4,24,72]
    ("mean_time_to_restore_p90", "month", JAN, "all", "all", 21.8),  # 2 + 0.9 x 22
    ("mean_time_to_restore_p90", "month", MAR, "all", "all", 58.4),  # [1,4,72]: 4 + 0.8 x 68
    ("mean_time_to_restore_p90", "quarter", Q1, "all", "all", 52.8),  # 24 + 0.6 x 48
    ("security_incident_resolution_time", "month", JAN, "all", "all", 6.0),  # I4 by category
    ("security_incident_resolution_time", "month", MAR, "all", "all", 1.0),  # I10 by flag
    ("security_incident_resolution_time", "quarter", Q1, "all", "all", 3.5),  # (1 + 6) / 2
    # reopen: Jan I2 of 4; Feb 0 of 1 (I5); Mar I8 of 3
    ("reopen_rate", "month", JAN, "all", "all", 25.0),
    ("reopen_rate", "month", FEB, "all", "all", 0.0),
    ("reopen_rate", "month", MAR, "all", "all", 100 / 3),
    ("reopen_rate", "quarter", Q1, "all", "all", 25.0),  # 2 / 8
    # first contact: reassignment 0: Jan I1, I4 of 4; Feb I5 of 1; Mar I8, I9 of 3
    ("first_contact_resolution", "month", JAN, "all", "all", 50.0),
    ("first_contact_resolution", "month", FEB, "all", "all", 100.0),
    ("first_contact_resolution", "month", MAR, "all", "all", 200 / 3),
    ("first_contact_resolution", "quarter", Q1, "all", "all", 62.5),  # 5 / 8
    # SLA: servicenow has no SLA clocks -> made_sla at resolution/closing; jira has S1 met, S2 breached
    ("sla_attainment", "month", JAN, "all", "all", 400 / 6),  # I1,I3,I4 + S1 of I1-I4 + S1,S2
    ("sla_attainment", "month", JAN, "source", "servicenow", 75.0),  # 3 / 4
    ("sla_attainment", "month", JAN, "source", "jira", 50.0),  # 1 / 2, S3 cancelled not counted
    ("sla_attainment", "month", FEB, "all", "all", 100.0),  # I5, I7 (closed Feb 6)
    ("sla_attainment", "month", MAR, "all", "all", 200 / 3),  # I9, I10 of I8, I9, I10
    ("sla_attainment", "quarter", Q1, "all", "all", 800 / 11),  # (4 + 2 + 2) / (6 + 2 + 3)
    # self-service by opening: Jan I1,I4,I5(21:00 Jan 31 Berlin),R1,R3 of 9; Feb I8 of 1 (I7 no
    # channel); Mar I10 of I9 (opened 00:00 Mar 31 Berlin), I10
    ("self_service_adoption", "month", JAN, "all", "all", 500 / 9),
    ("self_service_adoption", "month", FEB, "all", "all", 100.0),
    ("self_service_adoption", "month", MAR, "all", "all", 50.0),
    ("self_service_adoption", "quarter", Q1, "all", "all", 700 / 12),
    # requests: R1 24 h (week of Jan 8), R2 2 h (week of Jan 15), R3 cancelled
    ("request_fulfillment_time", "month", JAN, "all", "all", 13.0),
    ("request_fulfillment_time_p90", "month", JAN, "all", "all", 21.8),  # 2 + 0.9 x 22
    ("request_fulfillment_time", "week", date(2024, 1, 8), "all", "all", 24.0),
    ("request_fulfillment_time", "quarter", Q1, "all", "all", 13.0),
    # changes (the deployments: C7 is not production): Jan completed C1,C2,C3,C4,C6 (C5 cancelled);
    # failed C2 (caused I8), C3 (outcome), C4 (backed out); Feb C9 (ends Feb 1 00:30 Berlin, unsuccessful)
    ("change_failure_rate", "month", JAN, "all", "all", 60.0),  # 3 / 5
    ("change_failure_rate", "month", FEB, "all", "all", 100.0),  # 1 / 1
    ("change_failure_rate", "quarter", Q1, "all", "all", 400 / 6),  # 4 / 6
    ("change_failure_rate", "week", date(2024, 1, 8), "all", "all", 50.0),  # C1 ok, C2 failed
    ("change_failure_rate", "week", date(2024, 1, 15), "all", "all", 100.0),  # C3, C4
    ("change_failure_rate", "month", JAN, "service", "VPN", 100.0),  # C2, C4
    # deployments (C7 is not production): Jan C1,C2 (same day),C3,C4,C6 = 5 on 4 days; Feb C9
    ("deployment_frequency", "month", JAN, "all", "all", 5 / (31 / 7)),
    ("deployment_days_per_week", "month", JAN, "all", "all", 4 / (31 / 7)),
    ("deployment_frequency", "month", FEB, "all", "all", 1 / (29 / 7)),
    # Q1 is running: as_of is Mar 31 23:00 Berlin, so 90 days 23 h elapsed = 2183 / 168 weeks
    ("deployment_frequency", "quarter", Q1, "all", "all", 6 * 168 / 2183),
    ("deployment_days_per_week", "quarter", Q1, "all", "all", 5 * 168 / 2183),
    ("deployment_frequency", "week", date(2024, 1, 8), "all", "all", 2.0),
    ("deployment_days_per_week", "week", date(2024, 1, 8), "all", "all", 1.0),
    # change lead time, opened -> actual end, the deployments above: Jan C1 48, C2 6, C3 24, C6 120
    # (C4 has no actual end, C5 cancelled); Feb C9 3 (opened 21:30, implemented 00:30 Berlin)
    ("change_lead_time", "month", JAN, "all", "all", 36.0),  # (24 + 48) / 2
    ("change_lead_time_p90", "month", JAN, "all", "all", 98.4),  # 48 + 0.7 x (120 - 48)
    ("change_lead_time", "month", FEB, "all", "all", 3.0),
    ("change_lead_time_p90", "month", FEB, "all", "all", 3.0),
    ("change_lead_time", "quarter", Q1, "all", "all", 24.0),  # [3, 6, 24, 48, 120]
    ("change_lead_time_p90", "quarter", Q1, "all", "all", 91.2),  # 48 + 0.6 x 72
    ("change_lead_time", "week", date(2024, 1, 8), "all", "all", 27.0),  # C1 48, C2 6
    ("change_lead_time_p90", "week", date(2024, 1, 8), "all", "all", 43.8),  # 6 + 0.9 x 42
    ("change_lead_time", "week", date(2024, 1, 29), "all", "all", 3.0),  # C9, Thu Feb 1
    ("change_lead_time", "month", JAN, "service", "Email", 48.0),  # C1 48, C3 24, C6 120
    # availability, 24x7 from the service's first local day: Email from Jan 2 (30 days in Jan),
    # VPN from Jan 10 (22 days); Email loses 90 unplanned (O1 60 + O2's last 30) and 120 planned;
    # VPN loses 60 in Jan and 60 in Feb (O4 23:00-01:00 Berlin); O5 degradation is not downtime.
    # Both have outages, so both are committed. Mar 31 (23 h in Berlin) counts only up to as_of
    # (23:00 CEST = 22 h elapsed): 2 x 60 minutes fewer than the whole day in March and Q1
    ("service_availability", "month", JAN, "service", "Email", 100 * 42990 / 43080),
    ("service_availability", "month", JAN, "service", "VPN", 100 * 31620 / 31680),
    ("service_availability", "month", JAN, "all", "all", 100 * 74610 / 74760),
    ("service_availability", "month", FEB, "all", "all", 100 * 83460 / 83520),  # 2 x 29 x 1440
    ("service_availability", "month", MAR, "all", "all", 100.0),
    ("service_availability", "quarter", Q1, "all", "all", 100 * 247110 / 247320),
    # the worst committed service: Jan Email 42990 / 43080 (99.79%) below VPN 31620 / 31680
    ("service_availability_worst", "month", JAN, "all", "all", 100 * 42990 / 43080),
    ("service_availability_worst", "month", FEB, "all", "all", 100 * 41700 / 41760),  # VPN
    # Q1: Email 129270 / 129360 (43080 + 41760 + 44520, less 90); VPN 117840 / 117960 (31680 +
    # 41760 + 44520, less 120)
    ("service_availability_worst", "quarter", Q1, "all", "all", 100 * 117840 / 117960),
    # week of Jan 29: VPN loses O4's 120 minutes of 7 x 1440; Email loses none
    ("service_availability_worst", "week", date(2024, 1, 29), "all", "all", 100 * 9960 / 10080),
    ("service_availability", "week", date(2024, 1, 29), "all", "all", 100 * 20040 / 20160),
    # costs (EffectiveCost): Jan K1 100, K2 50, K3 30, K4 credit -20; K5 40 is Feb 1 in Berlin
    ("cloud_spend", "month", JAN, "all", "all", 160.0),
    ("cloud_spend", "month", FEB, "all", "all", 40.0),
    ("cloud_spend", "quarter", Q1, "all", "all", 200.0),
    ("cloud_spend", "month", JAN, "provider", "AWS", 130.0),  # 100 + 50 - 20
    ("cloud_spend", "month", JAN, "provider", "Microsoft", 30.0),
    ("cloud_spend", "week", date(2024, 1, 1), "all", "all", 100.0),  # K1, Mon 01:00 Berlin
    ("cloud_spend", "week", date(2024, 1, 22), "all", "all", -20.0),  # a credit-only week
    # allocated share of positive cost: K1 (cost_centre) 100, K2 (Owner tag) 50 of K1, K2, K3 30;
    # the credit K4 is on neither side: 150 / 180; K5 not allocated: 0 of 40
    ("cost_allocation_coverage", "month", JAN, "all", "all", 250 / 3),
    ("cost_allocation_coverage", "month", FEB, "all", "all", 0.0),
    ("cost_allocation_coverage", "quarter", Q1, "all", "all", 1500 / 22),  # 150 / 220
    # cost per ticket: Jan 1000 / (I1-I4 + R1, R2); Feb 600 / (I5, I7); Q1 has no March cost
    ("cost_per_ticket", "month", JAN, "all", "all", 1000 / 6),
    ("cost_per_ticket", "month", FEB, "all", "all", 300.0),
    ("it_spend_pct_revenue", "month", JAN, "all", "all", 2.5),  # 50,000 / 2,000,000
    # ROI, cumulative: INIT-1 cost Jan 100, Feb 50, benefit Feb 60, Mar 200; INIT-2 Mar 150 / 100
    ("project_roi", "month", JAN, "all", "all", -100.0),  # (0 - 100) / 100
    ("project_roi", "month", FEB, "all", "all", -60.0),  # (60 - 150) / 150
    ("project_roi", "month", MAR, "all", "all", 64.0),  # (410 - 250) / 250
    ("project_roi", "month", MAR, "initiative", "INIT-1", 220 / 3),  # (260 - 150) / 150
    ("project_roi", "quarter", Q1, "initiative", "INIT-2", 50.0),
    # a return so far counts each input from the week of its last day: February's by Thu Feb 29
    ("project_roi", "week", date(2024, 2, 26), "all", "all", -60.0),
    # CSAT top-2-box: Q1 5/5, Q2 4/5, Q4 9/10 of Q1-Q5 (Q6 6/5 is out of scale)
    ("csat", "month", JAN, "all", "all", 60.0),
    ("csat", "week", date(2024, 1, 1), "all", "all", 200 / 3),  # Q1, Q2 of Q1-Q3
    ("csat", "week", date(2024, 1, 8), "all", "all", 50.0),  # Q4 of Q4, Q5
    ("csat", "quarter", Q1, "all", "all", 60.0),
    ("employee_engagement", "month", JAN, "all", "all", 80.0),  # 4/5
    ("employee_engagement", "month", FEB, "all", "all", 65.0),  # (70 + 60) / 2
    ("employee_engagement", "quarter", Q1, "all", "all", 70.0),
    # inputs: training 40/10 Jan, 30/12 Feb (Q1 has no training for March: pinned as NULL)
    ("training_hours_per_fte", "month", JAN, "all", "all", 4.0),
    ("training_hours_per_fte", "month", FEB, "all", "all", 2.5),
    ("certifications", "month", JAN, "all", "all", 2.0),
    ("certifications", "month", FEB, "all", "all", 1.0),  # end 2024-03-01 read as exclusive
    ("automation_coverage", "quarter", Q1, "all", "all", (40 * 31 + 50 * 29) / 60),
    ("retention_rate", "month", FEB, "all", "all", 100.0),  # 21 of 21
    ("retention_rate", "quarter", Q1, "all", "all", 90.0),  # quarterly cohort 18 of 20
    ("critical_vulnerability_remediation_time", "month", JAN, "all", "all", 10.0),  # 40 / 4
    ("critical_vulnerability_remediation_time", "quarter", Q1, "all", "all", 10.0),
    ("automation_coverage", "month", JAN, "all", "all", 40.0),
    # weeks (Monday start, Berlin) of the metrics pinned above at month and quarter
    ("incident_resolution_time_p90", "week", date(2024, 1, 1), "all", "all", 3.8),  # 2 + 0.9 x 2
    ("mean_time_to_restore", "week", date(2024, 1, 1), "all", "all", 2.0),  # I1
    ("mean_time_to_restore", "week", date(2024, 1, 8), "all", "all", 24.0),  # I3
    ("mean_time_to_restore_p90", "week", date(2024, 1, 8), "all", "all", 24.0),  # I3
    ("security_incident_resolution_time", "week", date(2024, 1, 15), "all", "all", 6.0),  # I4
    ("reopen_rate", "week", date(2024, 1, 1), "all", "all", 50.0),  # I2 of I1, I2
    ("first_contact_resolution", "week", date(2024, 1, 15), "all", "all", 100.0),  # I4
    # S1 ends Mon Jan 15 01:00 Berlin (met), S2 Tue (breached), I4 Sat (made): 2 of 3
    ("sla_attainment", "week", date(2024, 1, 15), "all", "all", 200 / 3),
    # opened: I1 Tue portal, I2 Wed phone, I6 Fri phone
    ("self_service_adoption", "week", date(2024, 1, 1), "all", "all", 100 / 3),
    ("request_fulfillment_time_p90", "week", date(2024, 1, 8), "all", "all", 24.0),  # R1
    ("request_fulfillment_time_p90", "quarter", Q1, "all", "all", 21.8),
    # K2 (tag owner, 50) Mon Jan 15 and K3 (unallocated, 30) Sat Jan 20: 50 / 80
    ("cost_allocation_coverage", "week", date(2024, 1, 15), "all", "all", 62.5),
    ("employee_engagement", "week", date(2024, 1, 15), "all", "all", 80.0),  # E1
]


@pytest.mark.parametrize(
    ("metric", "grain", "period", "dimension", "dimension_value", "expected"), EXPECTED
)
def test_value(berlin, metric, grain, period, dimension, dimension_value, expected):
    row = berlin[(metric, grain, period, dimension, dimension_value)]
    assert row["reason"] is None
    assert row["value"] == pytest.approx(expected)


# Inputs that arrive monthly (or quarterly) cannot give weekly values: tested as absent or NULL.
# (project_roi can: a return so far counts each input from the week its span ends in.)
MONTHLY_INPUT_METRICS = {
    "cost_per_ticket", "it_spend_pct_revenue", "training_hours_per_fte",
    "certifications", "automation_coverage", "retention_rate",
    "critical_vulnerability_remediation_time",
}  # fmt: skip


# Pinned as NULL with their reason in test_periods_without_data_are_null_with_a_reason.
PINNED_AS_NULL = {
    ("cost_per_ticket", "quarter"),
    ("it_spend_pct_revenue", "quarter"),
    ("training_hours_per_fte", "quarter"),
    ("certifications", "quarter"),
}


def test_every_metric_is_pinned_at_every_grain():
    from transforms.catalogue import load_catalogue

    pinned = {(e[0], e[1]) for e in EXPECTED} | PINNED_AS_NULL
    for metric in load_catalogue():
        grains = {"month", "quarter"} | (set() if metric.id in MONTHLY_INPUT_METRICS else {"week"})
        assert {(metric.id, grain) for grain in grains} <= pinned, metric.id


def test_monthly_inputs_never_give_weekly_values(berlin):
    weekly = [
        key
        for key, row in berlin.items()
        if key[0] in MONTHLY_INPUT_METRICS and key[1] == "week" and row["value"] is not None
    ]
    assert weekly == []


def test_ratio_rows_carry_numerator_denominator_and_coverage(berlin):
    cfr = berlin[("change_failure_rate", "month", JAN, "all", "all")]
    assert (cfr["numerator"], cfr["denominator"], cfr["n"]) == (3, 5, 5)
    assert cfr["coverage"] == (
        "5 changes; 3 failed; excluded: cancelled (1), outcome unknown, counted as not failed (1)"
    )
    resolution = berlin[("incident_resolution_time", "month", JAN, "all", "all")]
    # numerator / denominator = mean 9 h, far from the median 5 h
    assert (resolution["numerator"], resolution["denominator"]) == (36, 4)
    assert "excluded: canceled (1)" in resolution["coverage"]
    lead_time = berlin[("change_lead_time", "month", JAN, "all", "all")]
    # numerator / denominator: mean (48 + 6 + 24 + 120) / 4 = 49.5 h beside the median 36 h
    assert (lead_time["numerator"], lead_time["denominator"], lead_time["n"]) == (198, 4, 4)
    assert "excluded: no actual end (1)" in lead_time["coverage"]  # C4
    assert "excluded: cancelled (1)" in lead_time["coverage"]  # C5
    worst_january = berlin[("service_availability_worst", "month", JAN, "all", "all")]
    assert worst_january["coverage"].startswith("2 services; lowest: Email")
    email_march = berlin[("service_availability", "month", MAR, "service", "Email")]
    # 30 days x 1440 + 1320 for 2024-03-31, which has 23 hours in Berlin of which 22 elapsed by
    # as_of (23:00 CEST)
    assert email_march["denominator"] == 30 * 1440 + 1320


def test_periods_without_data_are_null_with_a_reason(berlin):
    cfr_march = berlin[("change_failure_rate", "month", MAR, "all", "all")]
    assert cfr_march["value"] is None
    assert cfr_march["reason"] == "no data: no changes in period"
    assert "incident cites a caused-by change not in core.changes (1)" in cfr_march["coverage"]
    mttr_feb = berlin[("mean_time_to_restore", "month", FEB, "all", "all")]
    assert (mttr_feb["value"], mttr_feb["n"]) == (None, 0)
    quiet_week = berlin[("incident_resolution_time", "week", date(2024, 1, 22), "all", "all")]
    assert quiet_week["reason"] == "no data: no incidents resolved in period"
    cost_march = berlin[("cost_per_ticket", "month", MAR, "all", "all")]
    assert (cost_march["value"], cost_march["denominator"]) == (None, 3)
    assert cost_march["reason"] == "no data: no cost inputs for period"
    # the quarter's cost stops after February: 31 + 29 of 91 days
    cost_q1 = berlin[("cost_per_ticket", "quarter", Q1, "all", "all")]
    assert (cost_q1["value"], cost_q1["numerator"], cost_q1["denominator"]) == (None, 1600, 11)
    assert cost_q1["reason"] == "incomplete cost inputs: 60 of 91 days covered"
    # IT spend is in for January only: Q1's spend is not known, so neither is its share
    spend_q1 = berlin[("it_spend_pct_revenue", "quarter", Q1, "all", "all")]
    assert (spend_q1["value"], spend_q1["numerator"], spend_q1["denominator"]) == (
        None,
        50000,
        2000000,
    )
    assert spend_q1["reason"] == "incomplete spend inputs: 31 of 91 days covered"
    # Training hours and certifications are in for January and February only: March's are not
    # zero, so Q1's sums (70 hours over 12 FTE, 3 certifications) are not known.
    training_q1 = berlin[("training_hours_per_fte", "quarter", Q1, "all", "all")]
    assert (training_q1["value"], training_q1["numerator"]) == (None, 70)
    assert training_q1["reason"] == "incomplete training inputs: 60 of 91 days covered"
    certifications_q1 = berlin[("certifications", "quarter", Q1, "all", "all")]
    assert (certifications_q1["value"], certifications_q1["numerator"]) == (None, 3)
    assert certifications_q1["reason"] == "incomplete certification inputs: 60 of 91 days covered"


def test_monthly_inputs_give_no_weekly_values(berlin):
    weekly = [key for key in berlin if key[0] == "it_spend_pct_revenue" and key[1] == "week"]
    assert weekly == []
    week = berlin[("cost_per_ticket", "week", date(2024, 1, 1), "all", "all")]
    assert week["reason"] == "no data: no cost inputs for period"
    # the service_desk_cost breakdown row (999 for Email) is not added to the total
    assert berlin[("cost_per_ticket", "month", JAN, "all", "all")]["numerator"] == 1000


def test_deployment_counts_run_on_to_as_of(berlin):
    # the last production deployment (C9) ends on 2024-02-01 in Berlin; March and its weeks up to
    # as_of had none, which is a true zero, not missing data
    for metric in ("deployment_frequency", "deployment_days_per_week"):
        march = berlin[(metric, "month", MAR, "all", "all")]
        assert (march["value"], march["numerator"], march["reason"]) == (0.0, 0.0, None)
        last_week = berlin[(metric, "week", date(2024, 3, 25), "all", "all")]
        # Mon 00:00 to Sun 23:00 (as_of): 6 days 23 hours = 167 / 168 weeks elapsed
        assert (last_week["value"], last_week["denominator"]) == (0.0, pytest.approx(167 / 168))
    # a ratio metric has no zero to report: its periods after the last record are NULL with why
    cfr_last_week = berlin[("change_failure_rate", "week", date(2024, 3, 25), "all", "all")]
    assert (cfr_last_week["value"], cfr_last_week["reason"]) == (
        None,
        "no data: no changes in period",
    )


def test_min_n_nulls_small_samples(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="Europe/Berlin", as_of=AS_OF)
        values = values_by_key(con)
    january = values[("incident_resolution_time", "month", JAN, "all", "all")]
    assert january["value"] is None
    assert january["n"] == 4
    assert january["reason"] == "too little data: n=4 below the minimum of 5"
    # 5 changes reach the default minimum of 5
    assert values[("change_failure_rate", "month", JAN, "all", "all")]["value"] == 60.0


def test_records_of_unknown_state_are_not_taken_for_cancelled(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        con.execute(
            "INSERT INTO core.changes (change_id, source, number, state, outcome, actual_end) "
            "VALUES ('CN', 'servicenow', 'CHGN', NULL, 'unsuccessful', '2024-01-12 10:00+00')"
        )
        con.execute(
            "INSERT INTO core.requests (request_id, source, number, opened_at, fulfilled_at, state) "
            "VALUES ('RN', 'servicenow', 'RITMN', '2024-01-08 09:00+00', '2024-01-09 09:00+00', NULL)"
        )
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        values = values_by_key(con)
    # January had 3 failed of 5 completed changes; CN is completed and unsuccessful: 4 of 6
    cfr = values[("change_failure_rate", "month", JAN, "all", "all")]
    assert (cfr["numerator"], cfr["denominator"]) == (4.0, 6.0)
    # ... and it was deployed: 6 deployments in January
    assert values[("deployment_frequency", "month", JAN, "all", "all")]["numerator"] == 6.0
    # RN is a handled ticket: 1000 / 7
    assert values[("cost_per_ticket", "month", JAN, "all", "all")]["value"] == pytest.approx(
        1000 / 7
    )


def test_utc_buckets_differ_from_berlin(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="UTC", min_n=1, as_of=AS_OF)
        values = values_by_key(con)
    # I5 (3.5 h) now resolves in January: [2, 3.5, 4, 6, 24]
    assert values[("incident_resolution_time", "month", JAN, "all", "all")]["value"] == 4.0
    # C9 now ends in January: 4 failed of 6
    assert values[("change_failure_rate", "month", JAN, "all", "all")]["value"] == pytest.approx(
        400 / 6
    )
    assert values[("cloud_spend", "month", JAN, "all", "all")]["value"] == 200.0


def test_week_start_sunday(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="Europe/Berlin", week_start="sunday", min_n=1, as_of=AS_OF)
        values = values_by_key(con)
    # I9 resolves on Sunday 2024-03-31 in Berlin: the first day of a Sunday week
    assert (
        values[("incident_resolution_time", "week", date(2024, 3, 31), "all", "all")]["value"]
        == 4.0
    )
    # I1 (Tue Jan 2) and I2 (Wed Jan 3) fall in the week that starts on Sunday 2023-12-31
    assert (
        values[("incident_resolution_time", "week", date(2023, 12, 31), "all", "all")]["value"]
        == 3.0
    )


def test_an_empty_warehouse_gives_each_metric_its_latest_periods_without_a_value(warehouse):
    # Each grain's last complete and running period, so a scorecard shows every metric grey
    # with the reason until its first records arrive.
    with warehouse.connect() as con:
        summary = compute_metrics(con, as_of=AS_OF)
        assert con.execute("SELECT count(*) FROM kpi.metric_evidence").fetchall() == [(0,)]
        reasons = con.execute(
            "SELECT DISTINCT value IS NULL AND reason LIKE 'no data: no % yet' FROM kpi.metric_values"
        ).fetchall()
    assert reasons == [(True,)]
    assert set(summary.rows_by_metric.values()) == {6}
