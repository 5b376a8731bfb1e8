"""The pandas anchor of benchmarks/kpi_compute.py: our KPIs, by the same rules as ours.

Two tests place a handful of hand-written records (local day in Europe/Berlin, weeks from Monday,
states, the running period, a DST day, overlapping outages, manual inputs); the last runs the
benchmark's phases at a tiny scale and requires pandas and the hand-written DuckDB reference to
compute the same KPIs as our step, every value equal to kpi.metric_values.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import duckdb
import pandas as pd
import pytest

from benchmarks import kpi_compute, kpi_pandas
from transforms.kpis import compute_metrics
from warehouse import Warehouse

AS_OF = datetime(2025, 1, 1, tzinfo=UTC)


def _value(
    values: pd.DataFrame,
    metric_id: str,
    grain: str,
    period: str,
    dimension: str = "all",
    dimension_value: str = "all",
) -> float:
    key = (metric_id, grain, pd.Timestamp(period), dimension, dimension_value)
    rows = values.set_index(kpi_pandas.KEY).loc[[key], "value"]
    assert len(rows) == 1, rows
    return float(rows.iloc[0])


def _has(values: pd.DataFrame, metric_id: str, grain: str, period: str) -> bool:
    return bool(
        (
            (values["metric_id"] == metric_id)
            & (values["grain"] == grain)
            & (values["period_start"] == pd.Timestamp(period))
            & (values["dimension"] == "all")
        ).any()
    )


def test_records_count_on_their_berlin_day_and_the_running_week_only_as_far_as_as_of(warehouse):
    with warehouse.connect() as con:
        con.execute(
            """
            INSERT INTO core.incidents BY NAME
            SELECT * FROM (VALUES
                -- Monday 4 March: 2 h, priority 1 (restores a service)
                ('i1', 'servicenow', 'INC1', TIMESTAMPTZ '2024-03-04 08:00+00',
                 TIMESTAMPTZ '2024-03-04 10:00+00', 1, 'closed'),
                -- Tuesday 5 March: 6 h
                ('i2', 'servicenow', 'INC2', TIMESTAMPTZ '2024-03-05 00:00+00',
                 TIMESTAMPTZ '2024-03-05 06:00+00', 3, 'resolved'),
                -- Sunday 10 March 23:30 UTC is Monday 00:30 in Berlin: 11.5 h, the next week
                ('i3', 'servicenow', 'INC3', TIMESTAMPTZ '2024-03-10 12:00+00',
                 TIMESTAMPTZ '2024-03-10 23:30+00', 3, 'closed'),
                -- still open whatever its resolved_at says, and cancelled: neither is resolved
                ('i4', 'servicenow', 'INC4', TIMESTAMPTZ '2024-03-05 00:00+00',
                 TIMESTAMPTZ '2024-03-05 01:00+00', 3, 'in_progress'),
                ('i5', 'servicenow', 'INC5', TIMESTAMPTZ '2024-03-05 00:00+00',
                 TIMESTAMPTZ '2024-03-05 01:00+00', 3, 'canceled')
            ) AS t (incident_id, source, number, opened_at, resolved_at, priority, state)
            """
        )
        con.execute(
            """
            INSERT INTO core.changes BY NAME
            SELECT * FROM (VALUES
                ('c1', 'servicenow', 'CHG1', 'closed', 'successful',
                 TIMESTAMPTZ '2024-12-28 10:00+00', TIMESTAMPTZ '2024-12-31 10:00+00'),
                ('c2', 'servicenow', 'CHG2', 'canceled', NULL,
                 TIMESTAMPTZ '2024-12-28 10:00+00', TIMESTAMPTZ '2024-12-31 11:00+00')
            ) AS t (change_id, source, number, state, outcome, opened_at, actual_end)
            """
        )
        tables = kpi_pandas.load_tables(con)
    values = kpi_pandas.compute(tables, AS_OF, "Europe/Berlin")

    # Week of Monday 4 March: i1 and i2, median (2 + 6) / 2 = 4 h, P90 2 + 0.9 x (6 - 2) = 5.6 h.
    assert _value(values, "incident_resolution_time", "week", "2024-03-04") == 4.0
    assert _value(values, "incident_resolution_time_p90", "week", "2024-03-04") == pytest.approx(
        5.6
    )
    # i3 resolved on Berlin's Monday 11 March.
    assert _value(values, "incident_resolution_time", "week", "2024-03-11") == 11.5
    # March: 2, 6 and 11.5 h, median 6; restored services: only priority 1's 2 h.
    assert _value(values, "incident_resolution_time", "month", "2024-03-01") == 6.0
    assert _value(values, "mean_time_to_restore", "month", "2024-03-01") == 2.0
    assert (
        _value(values, "incident_resolution_time", "month", "2024-03-01", "priority", "3") == 8.75
    )
    # One deployment (c2 was cancelled) in the week of Monday 30 December, which by as_of
    # (1 January 01:00 in Berlin) had run 2 days 1 hour = 49 / 168 weeks: 168 / 49 per week.
    assert _value(values, "deployment_frequency", "week", "2024-12-30") == pytest.approx(168 / 49)
    # Lead time: opened 28 December 10:00, implemented 31 December 10:00: 72 h.
    assert _value(values, "change_lead_time", "quarter", "2024-10-01") == 72.0


def test_availability_over_a_dst_day_surveys_and_inputs_by_hand(warehouse):
    with warehouse.connect() as con:
        con.execute(
            """
            INSERT INTO core.outages BY NAME
            SELECT * FROM (VALUES
                -- Sunday 31 March 2024, Berlin's 23-hour day (22:00 UTC the day before to
                -- 22:00): 60 min of maintenance, then downtime from 00:30 to 02:00 UTC whose
                -- first 30 min the maintenance covers, and downtime within that downtime.
                ('o1', 'Mail', 'planned', TIMESTAMPTZ '2024-03-31 00:00+00',
                 TIMESTAMPTZ '2024-03-31 01:00+00'),
                ('o2', 'Mail', 'outage', TIMESTAMPTZ '2024-03-31 00:30+00',
                 TIMESTAMPTZ '2024-03-31 02:00+00'),
                ('o3', 'Mail', 'outage', TIMESTAMPTZ '2024-03-31 01:30+00',
                 TIMESTAMPTZ '2024-03-31 01:45+00'),
                -- Web, first seen on Friday 29 March: 2 h down that day.
                ('o4', 'Web', 'outage', TIMESTAMPTZ '2024-03-29 10:00+00',
                 TIMESTAMPTZ '2024-03-29 12:00+00'),
                -- Desk: committed by an outage record without a begin, watched since its first
                -- incident (1 January 2024), never down.
                ('o5', 'Desk', 'outage', NULL, NULL)
            ) AS t (outage_id, service, type, begin_at, end_at)
            CROSS JOIN (SELECT 'servicenow' AS source, 'OUT' AS number)
            """
        )
        con.execute(
            """
            INSERT INTO core.incidents BY NAME
            SELECT * FROM (VALUES
                ('a', TIMESTAMPTZ '2024-01-15 10:00+00', 'closed'),
                ('b', TIMESTAMPTZ '2024-01-20 10:00+00', 'resolved'),
                ('c', TIMESTAMPTZ '2024-01-21 10:00+00', 'in_progress'),
                ('d', TIMESTAMPTZ '2024-02-10 10:00+00', 'closed')
            ) AS t (incident_id, resolved_at, state)
            CROSS JOIN (SELECT 'servicenow' AS source, 'INC' AS number,
                TIMESTAMPTZ '2024-01-01 10:00+00' AS opened_at, 3 AS priority, 'Desk' AS service)
            """
        )
        con.execute(
            """
            INSERT INTO core.requests BY NAME
            SELECT * FROM (VALUES
                ('r1', TIMESTAMPTZ '2024-03-05 10:00+00', NULL, 'closed_complete'),
                ('r2', NULL, TIMESTAMPTZ '2024-03-06 10:00+00', 'cancelled'),
                ('r3', NULL, TIMESTAMPTZ '2024-03-20 10:00+00', 'closed_incomplete')
            ) AS t (request_id, fulfilled_at, closed_at, state)
            CROSS JOIN (SELECT 'servicenow' AS source, 'RITM' AS number,
                TIMESTAMPTZ '2024-03-01 10:00+00' AS opened_at)
            """
        )
        con.execute(
            """
            INSERT INTO core.measures BY NAME
            SELECT metric_id, period_start, last_day(period_start) AS period_end, value,
                'measures' AS source
            FROM (VALUES
                ('service_desk_cost', DATE '2024-01-01', 1000.0),
                ('service_desk_cost', DATE '2024-02-01', 2000.0),
                ('service_desk_cost', DATE '2024-03-01', 3000.0),
                ('headcount_fte', DATE '2024-01-01', 10.0),
                ('headcount_fte', DATE '2024-02-01', 20.0),
                ('headcount_fte', DATE '2024-03-01', 30.0),
                ('training_hours', DATE '2024-01-01', 10.0),
                ('training_hours', DATE '2024-02-01', 10.0),
                ('training_hours', DATE '2024-03-01', 10.0),
                -- Q1 without March's IT spend or coverage, February's days without their count
                ('revenue', DATE '2024-01-01', 100.0),
                ('revenue', DATE '2024-02-01', 100.0),
                ('revenue', DATE '2024-03-01', 100.0),
                ('it_spend', DATE '2024-01-01', 3.0),
                ('it_spend', DATE '2024-02-01', 3.0),
                ('automation_coverage', DATE '2024-01-01', 40.0),
                ('automation_coverage', DATE '2024-02-01', 60.0),
                ('critical_vuln_remediation_days', DATE '2024-01-01', 90.0),
                ('critical_vulns_remediated', DATE '2024-01-01', 10.0),
                ('critical_vuln_remediation_days', DATE '2024-02-01', 60.0)
            ) AS t (metric_id, period_start, value)
            """
        )
        con.execute(
            """
            INSERT INTO core.survey_responses BY NAME
            SELECT * FROM (VALUES
                ('s1', 'csat', 5.0, 5.0, NULL),
                ('s2', 'csat', 4.0, 5.0, NULL),
                ('s3', 'csat', 3.0, 5.0, NULL),
                ('s4', 'csat', 9.0, 10.0, NULL),
                ('s5', 'csat', 8.0, 10.0, NULL),
                -- a thumbs scale, within the top two points; a score off its scale
                ('s6', 'csat', 1.0, 1.0, NULL),
                ('s7', 'csat', 6.0, 5.0, NULL),
                -- 1 April 01:30 in Berlin, but entered as an answer of 31 March
                ('s8', 'csat', 5.0, 5.0, DATE '2024-03-31'),
                -- dated after as_of's day: not an answer yet
                ('s11', 'csat', 5.0, 5.0, DATE '2025-01-02'),
                ('s9', 'engagement', 4.0, 5.0, NULL),
                ('s10', 'engagement', 7.0, 10.0, NULL)
            ) AS t (response_id, survey, score, scale_max, answered_on)
            CROSS JOIN (SELECT 'measures' AS source)
            POSITIONAL JOIN (SELECT unnest([
                TIMESTAMPTZ '2024-03-10 12:00+00', TIMESTAMPTZ '2024-03-10 12:00+00',
                TIMESTAMPTZ '2024-03-10 12:00+00', TIMESTAMPTZ '2024-03-10 12:00+00',
                TIMESTAMPTZ '2024-03-10 12:00+00', TIMESTAMPTZ '2024-03-10 12:00+00',
                TIMESTAMPTZ '2024-03-10 12:00+00', TIMESTAMPTZ '2024-03-31 23:30+00',
                TIMESTAMPTZ '2024-12-31 12:00+00',
                TIMESTAMPTZ '2024-03-10 12:00+00', TIMESTAMPTZ '2024-03-10 12:00+00'
            ]) AS responded_at)
            """
        )
        tables = kpi_pandas.load_tables(con)
        # Our step on the same records, every value given (minimum n 1).
        compute_metrics(
            con, timezone="Europe/Berlin", week_start="monday", overrides={}, min_n=1, as_of=AS_OF
        )
        ours = kpi_pandas.sql_values(con, list(kpi_pandas.KPIS))
    values = kpi_pandas.compute(tables, AS_OF, "Europe/Berlin")

    # Week of Monday 25 March. Mail: its one day of 23 h = 1,380 min, less 60 min planned, less
    # 60 min down (o2 from 01:00, o3 counted within o2): (1380 - 120) / (1380 - 60).
    week = ("service_availability", "week", "2024-03-25")
    assert _value(values, *week, "service", "Mail") == pytest.approx(100 * 1260 / 1320)
    # Web: Friday to Sunday = 1,440 + 1,440 + 1,380 min, 120 down.
    assert _value(values, *week, "service", "Web") == pytest.approx(100 * 4140 / 4260)
    # Desk: six days of 1,440 min and Sunday's 1,380 = 10,020, never down.
    assert _value(values, *week, "service", "Desk") == 100.0
    assert _value(values, *week) == pytest.approx(
        100 * (1260 + 4140 + 10020) / (1320 + 4260 + 10020)
    )
    worst = _value(values, "service_availability_worst", "week", "2024-03-25")
    assert worst == pytest.approx(100 * 1260 / 1320)
    # CSAT in March: 5/5, 4/5, 9/10 and the 31 March answer are in the top two of 6 answers.
    assert _value(values, "csat", "month", "2024-03-01") == pytest.approx(100 * 4 / 6)
    assert _value(values, "employee_engagement", "month", "2024-03-01") == pytest.approx(75.0)
    # Cost per ticket: January 1000 / 2 incidents, March 3000 / 2 requests (r3 closed
    # incomplete counts, r2 cancelled does not), the quarter 6000 / 5.
    assert _value(values, "cost_per_ticket", "month", "2024-01-01") == 500.0
    assert _value(values, "cost_per_ticket", "month", "2024-03-01") == 1500.0
    assert _value(values, "cost_per_ticket", "quarter", "2024-01-01") == 1200.0
    # Training over the quarter's average headcount, weighted by days: (10x31 + 20x29 +
    # 30x31) / 91 = 20 FTE; 30 hours / 20 FTE.
    assert _value(values, "training_hours_per_fte", "quarter", "2024-01-01") == pytest.approx(1.5)
    assert _value(values, "training_hours_per_fte", "month", "2024-02-01") == pytest.approx(0.5)
    # A quarter short of a month's spend has no value; coverage averages the days it covers:
    # (40 x 31 + 60 x 29) / 60; remediation days count only beside their count (January's).
    assert not _has(values, "it_spend_pct_revenue", "quarter", "2024-01-01")
    assert _value(values, "automation_coverage", "quarter", "2024-01-01") == pytest.approx(
        (40 * 31 + 60 * 29) / 60
    )
    assert _value(values, "critical_vulnerability_remediation_time", "quarter", "2024-01-01") == 9
    assert not _has(values, "csat", "month", "2025-01-01")

    # Our step agrees wherever it has a value, with the same n.
    for metric_id, check in kpi_pandas.compare(values, ours).items():
        assert check["equal"] == check["n_equal"] == check["compared"], (metric_id, check)
        assert check["pandas_only"] == 0, (metric_id, check)
    # So does the hand-written DuckDB reference.
    reference = kpi_compute.phase_reference(warehouse.published_path, 1)
    assert reference["equal"] == reference["compared"] > 0, reference


def _reference_kpis() -> set[str]:
    """Metric ids benchmarks/kpi_reference.sql inserts (the first column of each INSERT)."""
    sql = (kpi_compute.ROOT / "benchmarks" / "kpi_reference.sql").read_text()
    first_columns = re.findall(r"^\s+(unnest\(\[[^]]*\]\)|'\w+'),\s+grain, period_start", sql, re.M)
    return {metric_id for column in first_columns for metric_id in re.findall(r"'(\w+)'", column)}


def test_pandas_and_the_reference_compute_our_kpis_equal_to_kpi_metric_values(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("SCORECARD_AS_OF", kpi_compute.AS_OF.isoformat())
    path = tmp_path / "bench.duckdb"
    # 2,000 incidents, 400 changes, 600 requests, 20,000 cost rows over 50 services, 10 groups.
    kpi_compute.phase_generate(path, 50, 10, 0.002, 13, None)
    computed = kpi_compute.phase_compute(path, 2)
    reference = kpi_compute.phase_reference(path, 2)
    pandas = kpi_compute.phase_pandas(path)

    # Every KPI of ours but project_roi, which has no inputs in the benchmark's data.
    assert computed["metrics"] == len(kpi_pandas.KPIS) + 1 == 30
    assert len(reference["kpis"]) == 29
    assert set(reference["kpis"]) == _reference_kpis()
    # Every value the reference has equals ours; it leaves out only values ours shows as 0.
    assert reference["equal"] + reference["missing_in_reference"] == reference["compared"]
    assert reference["missing_in_reference_nonzero"] == 0
    assert pandas["kpis"] == reference["kpis"] == sorted(kpi_pandas.KPIS)
    assert pandas["seconds"] == pandas["load_seconds"] + pandas["compute_seconds"]
    checks = pandas["check_against_sql"]
    assert sorted(checks) == pandas["kpis"]
    for metric_id, check in checks.items():
        assert check["compared"] > 0, metric_id
        assert check["equal"] == check["compared"], (metric_id, check)
        assert check["max_abs_diff"] < 1e-6, (metric_id, check)
        # The same records counted: n equal wherever both have a value.
        assert check["n_equal"] == check["compared"], (metric_id, check)
        assert check["pandas_only"] == 0, (metric_id, check)

    # Our step timed on pandas' KPIs alone computes exactly those.
    same = kpi_compute.phase_same_kpis(path, 2)
    assert same["metrics"] == 29
    with duckdb.connect(str(Warehouse.at(path).working_path), read_only=True) as con:
        stored = con.execute("SELECT DISTINCT metric_id FROM kpi.metric_values").fetchall()
    assert sorted(row[0] for row in stored) == sorted(kpi_pandas.KPIS)
