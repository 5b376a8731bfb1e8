"""Ingest assets say which tables they write, and every step waits for the configuration check."""

import json
import os
import re
import subprocess
import sys

from connectors.servicenow import DELETION_LOG, TABLE_FIELDS

GRAPH = """
import json
from pipelines.definitions import defs
graph = defs.resolve_asset_graph()
print(json.dumps({
    node.key.to_user_string(): {
        "description": node.description,
        "parents": sorted(k.to_user_string() for k in node.parent_keys),
    }
    for node in graph.asset_nodes
}))
"""


def demo_graph() -> dict[str, dict]:
    """The demo's asset graph (every source) as a user's code location would load it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCORECARD_")}
    loaded = subprocess.run(
        [sys.executable, "-c", GRAPH], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(loaded.stdout)


def test_ingest_descriptions_name_the_tables_each_source_writes(warehouse):
    graph = demo_graph()
    named = {
        key: re.findall(r"\b(?:raw|core)\.[a-z_]+", node["description"])
        for key, node in graph.items()
        if key.startswith("raw/")
    }
    assert named["raw/focus"] == [
        "raw.focus_costs",
        "raw.focus_file_problems",
        "raw.focus_files",
        "raw.focus_rejected_lines",
        "raw.focus_settings",
        "raw.focus_unlisted_files",
    ]
    assert named["raw/measures"] == [
        "raw.measures_file_problems",
        "raw.measures_inputs",
        "raw.measures_measures",
        "raw.measures_survey_responses",
    ]
    # The tables read and the deletion log, which staging reads for the SLA clocks of deleted tasks.
    assert named["raw/servicenow"] == sorted(
        f"raw.servicenow_{t}" for t in [*TABLE_FIELDS, DELETION_LOG]
    )
    assert named["raw/aws_ce"] == ["raw.aws_ce_costs"]
    assert named["raw/azure_cost"] == ["raw.azure_cost_costs"]
    with warehouse.connect() as con:
        existing = {
            f"{schema}.{table}"
            for schema, table in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
            ).fetchall()
        }
    core_tables = {t for tables in named.values() for t in tables if t.startswith("core.")}
    assert core_tables <= existing


def test_every_step_waits_for_the_configuration_check_first():
    graph = demo_graph()
    assert graph["preflight/configuration"]["parents"] == []
    roots = [key for key, node in graph.items() if not node["parents"]]
    assert roots == ["preflight/configuration"]
    for key in (k for k in graph if k.startswith("raw/")):
        assert graph[key]["parents"] == ["preflight/configuration"]
