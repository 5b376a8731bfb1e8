"""The published metric dictionary is generated from the catalogue and cannot drift from it."""

from __future__ import annotations

import re
from pathlib import Path

from transforms.catalogue import load_catalogue, load_inputs
from transforms.metric_dictionary import DICTIONARY_PATH, render

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "metrics.md"


def test_committed_dictionary_equals_a_fresh_render():
    assert DICTIONARY_PATH.read_text() == render(), (
        "docs/metrics.md is stale: run python -m transforms.metric_dictionary"
    )


def test_reference_metrics_are_all_in_the_catalogue():
    ids = {m.id for m in load_catalogue()}
    expected = {
        "change_failure_rate", "deployment_frequency", "incident_resolution_time",
        "incident_resolution_time_p90", "mean_time_to_restore", "sla_attainment",
        "request_fulfillment_time", "service_availability", "reopen_rate",
        "first_contact_resolution", "csat", "self_service_adoption", "cost_per_ticket",
        "it_spend_pct_revenue", "cloud_spend", "cost_allocation_coverage", "project_roi",
        "training_hours_per_fte", "certifications", "automation_coverage",
        "employee_engagement", "retention_rate",
    }  # fmt: skip
    assert expected <= ids
    if REFERENCE.exists():
        table_ids = set(re.findall(r"^\| (\w+) \|", REFERENCE.read_text(), flags=re.M)) - {"id"}
        assert table_ids <= ids


def test_every_input_the_sql_reads_is_declared():
    declared = {item.id for item in load_inputs()}
    metric_dir = Path(__file__).resolve().parents[1] / "transforms" / "metrics"
    read = set()
    for path in metric_dir.glob("*.sql"):
        text = path.read_text()
        if "measure_inputs" in text:
            read |= set(re.findall(r"'([a-z_]+)'", text)) & declared
    assert read == declared
    for item in load_inputs():
        assert set(item.used_by) <= {m.id for m in load_catalogue()}
        assert f"`{item.id}`" in render()
