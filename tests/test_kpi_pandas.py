"""The pandas anchor of benchmarks/kpi_compute.py: the reference's KPIs, by the same rules as ours.

One test places a handful of hand-written records (local day in Europe/Berlin, weeks from Monday,
states, the running period); the other runs the benchmark's phases at a tiny scale and requires
pandas to compute exactly the reference's KPIs, every value equal to kpi.metric_values.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import duckdb
import pandas as pd
import pytest

from benchmarks import kpi_compute, kpi_pandas
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


def _reference_kpis() -> set[str]:
    """Metric ids benchmarks/kpi_reference.sql inserts (the first column of each INSERT)."""
    sql = (kpi_compute.ROOT / "benchmarks" / "kpi_reference.sql").read_text()
    first_columns = re.findall(r"^\s+(unnest\(\[.*?\]\)|'\w+'), grain, period_start", sql, re.M)
    return {metric_id for column in first_columns for metric_id in re.findall(r"'(\w+)'", column)}


def test_pandas_computes_every_reference_kpi_equal_to_kpi_metric_values(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_AS_OF", kpi_compute.AS_OF.isoformat())
    path = tmp_path / "bench.duckdb"
    # 2,000 incidents, 400 changes, 600 requests, 20,000 cost rows over 50 services, 10 groups.
    kpi_compute.phase_generate(path, 50, 10, 0.002, 13, None)
    assert kpi_compute.phase_compute(path, 2)["metrics"] > 17
    reference = kpi_compute.phase_reference(path, 2)
    pandas = kpi_compute.phase_pandas(path)

    assert len(reference["kpis"]) == 17
    assert set(reference["kpis"]) == _reference_kpis()
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
    assert same["metrics"] == 17
    with duckdb.connect(str(Warehouse.at(path).working_path), read_only=True) as con:
        stored = con.execute("SELECT DISTINCT metric_id FROM kpi.metric_values").fetchall()
    assert sorted(row[0] for row in stored) == sorted(kpi_pandas.KPIS)
