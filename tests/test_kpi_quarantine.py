"""A KPI value outside what its metric can be is quarantined, not fatal; allocation coverage stays a share."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime

import dagster as dg
import pytest
from kpi_fixtures.support import AS_OF, load_fixture, values_by_key

from connectors.focus import from_env
from pipelines.checks import kpi_values_in_range
from pipelines.resources import WarehouseResource
from transforms.kpis import compute_metrics
from transforms.staging import stage
from warehouse.ingest import ingest

JAN, FEB = date(2024, 1, 1), date(2024, 2, 1)


def spreadsheet_typos(con) -> None:
    """automation_coverage is a 0-100 share; a typo makes January 140 and February not a number."""
    load_fixture(con)
    con.execute(
        "UPDATE core.measures SET value = 140 WHERE metric_id = 'automation_coverage' "
        "AND period_start = '2024-01-01'"
    )
    con.execute(
        "UPDATE core.measures SET value = 'NaN' WHERE metric_id = 'automation_coverage' "
        "AND period_start = '2024-02-01'"
    )


def test_out_of_range_values_are_quarantined_with_a_data_quality_row(warehouse):
    with warehouse.connect() as con:
        spreadsheet_typos(con)
        summary = compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        values = values_by_key(con)
        problems = con.execute(
            "SELECT source, record_key, field, problem, value FROM scorecard.data_quality "
            "WHERE table_name = 'metric_values' ORDER BY record_key"
        ).fetchall()
    january = values[("automation_coverage", "month", JAN, "all", "all")]
    assert january["value"] is None
    assert january["reason"] == "quarantined: kpi_values_in_range: 140 outside 0-100"
    # the inputs stay visible: 140 x 1 over 1
    assert (january["numerator"], january["denominator"]) == (140, 1)
    february = values[("automation_coverage", "month", FEB, "all", "all")]
    assert february["reason"] == "quarantined: kpi_values_in_range: nan is not a finite number"
    assert (
        "measures",
        "automation_coverage/month/2024-01-01/all=all",
        "value",
        "quarantined: kpi_values_in_range: 140 outside 0-100",
        "140",
    ) in problems
    assert ("automation_coverage", "month", FEB, "all", "all") in {
        q[:5] for q in summary.quarantined
    }
    # every other metric is computed as usual
    assert values[("change_failure_rate", "month", JAN, "all", "all")]["value"] == 60.0


def test_quarantine_rows_are_replaced_on_each_run(warehouse):
    with warehouse.connect() as con:
        spreadsheet_typos(con)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        con.execute("UPDATE core.measures SET value = 40 WHERE metric_id = 'automation_coverage'")
        summary = compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
        left = con.execute(
            "SELECT count(*) FROM scorecard.data_quality WHERE table_name = 'metric_values'"
        ).fetchall()[0][0]
    assert summary.quarantined == ()
    assert left == 0


def test_range_check_warns_without_blocking_publishing(warehouse):
    with warehouse.connect() as con:
        spreadsheet_typos(con)
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=AS_OF)
    spec = next(iter(kpi_values_in_range.check_specs))
    assert spec.blocking is False
    result = kpi_values_in_range(
        warehouse=WarehouseResource(
            published_path=str(warehouse.published_path),
            working_path=str(warehouse.working_path),
        )
    )
    assert isinstance(result, dg.AssetCheckResult)
    assert result.passed is False
    assert result.severity == dg.AssetCheckSeverity.WARN
    listed = result.metadata["values"].value
    assert "| automation_coverage | month | 2024-01-01 | all=all | quarantined:" in listed


# Tag keys that name an owner in the FOCUS 1.0 sample (normalised: lower case, letters and digits).
OWNER_TAG_KEYS = {
    "costcentre", "costcenter", "businessunit", "service", "businessservice", "servicename",
    "application", "app", "applicationname", "workload", "owner",
}  # fmt: skip


def independent_allocation_coverage(path) -> float:
    """Allocated share of September's positive EffectiveCost, straight from the CSV."""
    allocated = positive = 0.0
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            amount = float(row["EffectiveCost"])
            if row["ChargeCategory"] == "Credit" or amount < 0:
                continue
            tags = json.loads(row["Tags"]) if row["Tags"] not in ("", "NULL") else {}
            keys = {re.sub(r"[^a-z0-9]", "", key.lower()) for key in tags}
            positive += amount
            if keys & OWNER_TAG_KEYS:
                allocated += amount
    return 100 * allocated / positive


def test_focus_sample_allocation_coverage_is_a_share_of_positive_cost(warehouse, shared_data):
    sample = shared_data / "focus" / "focus-1.0-sample.csv"
    expected = independent_allocation_coverage(sample)
    with warehouse.connect() as con:
        ingest(con, from_env({"FOCUS_PATHS": str(sample)}), "run-1")
        stage(con, "focus", "costs")
        summary = compute_metrics(con, min_n=1, as_of=datetime(2024, 10, 2, tzinfo=UTC))
        values = values_by_key(con)
    september = values[("cost_allocation_coverage", "month", date(2024, 9, 1), "all", "all")]
    # credits made it 123% when they were netted into the unallocated part
    assert 0 <= september["value"] <= 100
    assert september["value"] == pytest.approx(expected)
    assert summary.quarantined == ()
