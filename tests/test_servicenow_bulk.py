"""The enterprise-shaped benchmark instance and the extraction benchmark's JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

from connectors.emulators.servicenow_bulk import enterprise_tables
from tests.conftest import REPO


def test_same_count_and_seed_serve_the_same_incidents_and_another_seed_does_not():
    first = list(enterprise_tables(2_000, seed=5)["incident"].scan())
    again = list(enterprise_tables(2_000, seed=5)["incident"].scan())
    other = list(enterprise_tables(2_000, seed=6)["incident"].scan())
    assert first == again
    assert [r["business_service"] for r in first] != [r["business_service"] for r in other]


def test_incidents_spread_over_three_years_and_thousands_of_skewed_services():
    tables = enterprise_tables(50_000)
    incidents = list(tables["incident"].scan())
    services = Counter(r["business_service"] for r in incidents)
    groups = Counter(r["assignment_group"] for r in incidents)
    busiest = sum(n for _, n in services.most_common(50))
    assert len(tables["cmdb_ci_service"]) == 5_000
    assert len(tables["sys_user_group"]) == 500
    assert (incidents[0]["sys_updated_on"], incidents[-1]["sys_updated_on"][:4]) == (
        "2023-01-01 00:00:00",
        "2025",
    )
    # 1% of the services hold about half the tickets; most services still have some.
    assert 0.4 < busiest / len(incidents) < 0.75
    assert len(services) > 3_000
    assert len(groups) == 500
    order = [(r["sys_updated_on"], r["sys_id"]) for r in incidents]
    assert order == sorted(order)


def test_a_change_moves_exactly_that_fraction_to_the_end_with_a_field_changed():
    incidents = enterprise_tables(10_000)["incident"]
    before = {r["sys_id"]: r for r in incidents.scan()}
    now = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert incidents.change(0.01, now) == 100
    after = list(incidents.scan())
    moved = [r for r in after if r["sys_updated_on"] == "2026-03-01 02:00:00"]
    assert len(after) == 10_000
    assert after[-100:] == moved
    assert all(
        int(r["reassignment_count"]) == int(before[r["sys_id"]]["reassignment_count"]) + 1
        for r in moved
    )
    # Reading on from just before the change returns only the changed incidents.
    assert list(incidents.scan("2026-03-01 01:50:00")) == moved


def test_the_benchmark_prints_one_json_line_per_count_with_the_nightly_run_checked():
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/servicenow_extract.py",
            "--json",
            "--incremental",
            "0.01",
            "1500",
            "2500",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["records"] for line in lines] == [1500, 2500]
    for line in lines:
        assert set(line) == {
            "records",
            "seconds",
            "records_per_s",
            "emulator_records_per_s",
            "peak_rss_mb",
            "incremental",
        }
        assert line["records_per_s"] > 0 and line["emulator_records_per_s"] > 0
        nightly = line["incremental"]
        assert nightly["changed"] == nightly["stored"] == line["records"] // 100
        assert nightly["full_seconds"] == line["seconds"]
    assert "records/s" in done.stderr
