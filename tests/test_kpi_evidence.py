"""kpi.metric_evidence lists exactly the records behind a KPI value, with their roles."""

from __future__ import annotations

from datetime import date

from kpi_fixtures.support import AS_OF, load_fixture

from transforms.kpis import compute_metrics

JAN = date(2024, 1, 1)


def evidence(con, metric_id, grain, period, dimension="all", dimension_value="all"):
    rows = con.execute(
        "SELECT role, record_id FROM kpi.metric_evidence WHERE metric_id = ? AND grain = ? "
        "AND period_start = ? AND dimension = ? AND dimension_value = ?",
        [metric_id, grain, period, dimension, dimension_value],
    ).fetchall()
    by_role: dict[str, set[str]] = {}
    for role, record_id in rows:
        by_role.setdefault(role, set()).add(record_id)
    return by_role


def test_change_failure_rate_evidence(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        january = evidence(con, "change_failure_rate", "month", JAN)
        vpn = evidence(con, "change_failure_rate", "month", JAN, "service", "VPN")
        march = evidence(con, "change_failure_rate", "month", date(2024, 3, 1))
    assert january == {
        "numerator": {"C2", "C3", "C4"},
        "denominator": {"C1", "C2", "C3", "C4", "C6"},
        "excluded": {"C5"},
    }
    assert vpn == {"numerator": {"C2", "C4"}, "denominator": {"C2", "C4"}}
    # the incident that cites an unknown change is shown, not silently dropped
    assert march == {"excluded": {"I10"}}


def test_evidence_matches_the_stored_counts(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        mismatches = con.execute(
            """
            SELECT v.metric_id, v.grain, v.period_start, v.dimension, v.dimension_value
            FROM kpi.metric_values AS v
            LEFT JOIN (
                SELECT metric_id, grain, period_start, dimension, dimension_value,
                    -- plainly summed: a record in both roles counts once on each side
                    sum(numerator_contribution) AS numerator,
                    sum(denominator_contribution) AS denominator
                FROM kpi.metric_evidence
                GROUP BY ALL
            ) AS e USING (metric_id, grain, period_start, dimension, dimension_value)
            WHERE v.metric_id IN ('change_failure_rate', 'cloud_spend', 'sla_attainment',
                'service_availability', 'service_availability_worst', 'cost_per_ticket')
                AND (abs(coalesce(e.numerator, 0) - coalesce(v.numerator, 0)) > 1e-6
                    OR (v.metric_id <> 'cloud_spend'
                        AND abs(coalesce(e.denominator, 0) - coalesce(v.denominator, 0)) > 1e-6))
            """
        ).fetchall()
    assert mismatches == []


def test_worst_service_evidence_and_notes_are_those_of_the_worst_service(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        january = evidence(con, "service_availability_worst", "month", JAN)
        lowest_of, coverage = con.execute(
            "SELECT lowest_of, coverage FROM kpi.metric_values "
            "WHERE metric_id = 'service_availability_worst' AND grain = 'month' "
            "AND period_start = ? AND dimension = 'all'",
            [JAN],
        ).fetchall()[0]
    # January's worst is Email (42990 / 43080): its 30 service-days from Jan 2 and its outages
    # O1, O2 (unplanned, numerator only) and O3 (planned, both sides); nothing of VPN (O4, its days)
    email_days = {f"Email @ 2024-01-{day:02d}" for day in range(2, 32)}
    assert january == {
        "numerator": email_days | {"O1", "O2", "O3"},
        "denominator": email_days | {"O3"},
    }
    assert lowest_of == "Email"
    # Email's notes only: VPN's O4 would make the unplanned count 3
    assert coverage == (
        "2 services; lowest: Email; days of planned maintenance (outage records) (1), "
        "days of unplanned downtime (outage records) (2)"
    )


def test_cost_and_duration_evidence(warehouse):
    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        spend = con.execute(
            "SELECT role, cost_id, cost_group FROM kpi.cost_evidence WHERE metric_id = 'cloud_spend' "
            "AND grain = 'month' AND period_start = ? AND dimension = 'provider' "
            "AND dimension_value = 'AWS' ORDER BY cost_id",
            [JAN],
        ).fetchall()
        coverage = con.execute(
            "SELECT role, cost_id, allocation, cost_group FROM kpi.cost_evidence "
            "WHERE metric_id = 'cost_allocation_coverage' AND grain = 'month' AND period_start = ? "
            "AND dimension = 'all' ORDER BY role, cost_id",
            [JAN],
        ).fetchall()
        resolution = con.execute(
            "SELECT record_id, sample_value FROM kpi.metric_evidence "
            "WHERE metric_id = 'incident_resolution_time_p90' AND grain = 'month' "
            "AND period_start = ? AND dimension = 'all' AND role = 'denominator' ORDER BY 2",
            [JAN],
        ).fetchall()
        roi_march = evidence(con, "project_roi", "month", date(2024, 3, 1), "initiative", "INIT-1")
    # cost rows are stored as cost groups (local day x dimensions) and expanded on demand
    assert spend == [
        ("numerator", "K1", '["2024-01-01","AWS","Compute","Email","focus","charge"]'),
        ("numerator", "K2", '["2024-01-15","AWS","Storage",null,"focus","charge"]'),
        ("numerator", "K4", '["2024-01-25","AWS","Compute","Email","focus","credit"]'),
    ]
    # the credit K4 is listed, but excluded from both sides; coverage shows no service, so its
    # groups leave the service out
    assert coverage == [
        (
            "denominator",
            "K1",
            "allocated",
            '["2024-01-01","AWS","Compute","focus","charge","allocated"]',
        ),
        (
            "denominator",
            "K2",
            "allocated",
            '["2024-01-15","AWS","Storage","focus","charge","allocated"]',
        ),
        (
            "denominator",
            "K3",
            "unallocated",
            '["2024-01-20","Microsoft","Compute","focus","charge","unallocated"]',
        ),
        (
            "excluded",
            "K4",
            "allocated",
            '["2024-01-25","AWS","Compute","focus","credit","allocated"]',
        ),
        (
            "numerator",
            "K1",
            "allocated",
            '["2024-01-01","AWS","Compute","focus","charge","allocated"]',
        ),
        (
            "numerator",
            "K2",
            "allocated",
            '["2024-01-15","AWS","Storage","focus","charge","allocated"]',
        ),
    ]
    assert resolution == [("I1", 2.0), ("I2", 4.0), ("I4", 6.0), ("I3", 24.0)]
    # cumulative: March's ROI rests on every INIT-1 input since January
    assert roi_march["denominator"] == {
        "project_cost:2024-01-01:initiative:INIT-1",
        "project_cost:2024-02-01:initiative:INIT-1",
    }
    assert len(roi_march["numerator"]) == 4


def test_cost_evidence_lists_each_cost_row_once_when_group_names_look_alike(warehouse):
    # same day, provider and category: K1 has no service, K2 one named '(unknown)'; K3 and K4
    # differ only where a '|' falls (category 'C', service 'a|b' vs category 'C|a', service
    # 'b'); K5 and K6 likewise in provider and category, which allocation groups are named by
    with warehouse.connect() as con:
        con.execute(
            """
            INSERT INTO core.costs (cost_id, source, ChargePeriodStart, ChargePeriodEnd,
                ChargeCategory, BilledCost, EffectiveCost, ProviderName, ServiceCategory,
                ServiceName, service) VALUES
            ('K1', 'focus', '2024-01-03 00:00+00', '2024-01-04 00:00+00', 'Usage', 100, 100,
                'AWS', 'Compute', 'EC2', NULL),
            ('K2', 'focus', '2024-01-03 00:00+00', '2024-01-04 00:00+00', 'Usage', 50, 50,
                'AWS', 'Compute', 'EC2', '(unknown)'),
            ('K3', 'focus', '2024-01-04 00:00+00', '2024-01-05 00:00+00', 'Usage', 10, 10,
                'P', 'C', 'EC2', 'a|b'),
            ('K4', 'focus', '2024-01-04 00:00+00', '2024-01-05 00:00+00', 'Usage', 20, 20,
                'P', 'C|a', 'EC2', 'b'),
            ('K5', 'focus', '2024-01-05 00:00+00', '2024-01-06 00:00+00', 'Usage', 5, 5,
                'Q', 'C|x', 'EC2', NULL),
            ('K6', 'focus', '2024-01-05 00:00+00', '2024-01-06 00:00+00', 'Usage', 7, 7,
                'Q|C', 'x', 'EC2', NULL)
            """
        )
        compute_metrics(con, timezone="UTC", min_n=1, as_of=AS_OF)
        spend = con.execute(
            "SELECT cost_id, count(*), sum(EffectiveCost) FROM kpi.cost_evidence "
            "WHERE metric_id = 'cloud_spend' AND grain = 'month' AND period_start = ? "
            "AND dimension = 'all' GROUP BY cost_id ORDER BY cost_id",
            [JAN],
        ).fetchall()
        coverage = con.execute(
            "SELECT role, cost_id, count(*) FROM kpi.cost_evidence "
            "WHERE metric_id = 'cost_allocation_coverage' AND grain = 'month' "
            "AND period_start = ? AND dimension = 'all' GROUP BY ALL ORDER BY ALL",
            [JAN],
        ).fetchall()
    # 100 + 50 + 10 + 20 + 5 + 7 = 192, the month's cloud spend, each row listed once
    assert [(cost_id, n, float(amount)) for cost_id, n, amount in spend] == [
        ("K1", 1, 100.0),
        ("K2", 1, 50.0),
        ("K3", 1, 10.0),
        ("K4", 1, 20.0),
        ("K5", 1, 5.0),
        ("K6", 1, 7.0),
    ]
    # K2, K3 and K4 name a service (allocated); K1, K5 and K6 have no owner
    assert coverage == [
        ("denominator", "K1", 1),
        ("denominator", "K2", 1),
        ("denominator", "K3", 1),
        ("denominator", "K4", 1),
        ("denominator", "K5", 1),
        ("denominator", "K6", 1),
        ("numerator", "K2", 1),
        ("numerator", "K3", 1),
        ("numerator", "K4", 1),
    ]


def test_evidence_views_answer_from_the_published_file(warehouse):
    import duckdb

    from warehouse.publish import publish

    with warehouse.connect() as con:
        load_fixture(con)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
    publish(warehouse)
    with duckdb.connect(str(warehouse.published_path), read_only=True) as reader:
        changes = reader.execute(
            "SELECT record_id FROM kpi.metric_evidence WHERE metric_id = 'change_failure_rate' "
            "AND grain = 'month' AND period_start = ? AND dimension = 'all' AND role = 'numerator' "
            "ORDER BY 1",
            [JAN],
        ).fetchall()
        costs = reader.execute(
            "SELECT cost_id FROM kpi.cost_evidence WHERE metric_id = 'cloud_spend' "
            "AND grain = 'month' AND period_start = ? AND dimension = 'provider' "
            "AND dimension_value = 'Microsoft'",
            [JAN],
        ).fetchall()
    assert changes == [("C2",), ("C3",), ("C4",)]
    assert costs == [("K3",)]
