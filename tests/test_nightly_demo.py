"""The README's first command: the nightly job end to end on the demo, through the real CLI."""

import os
import shutil
import subprocess
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]


def test_nightly_job_on_the_demo_publishes_a_populated_warehouse(tmp_path):
    dg = shutil.which("dg", path=str(Path(os.sys.executable).parent)) or "dg"
    published = tmp_path / "warehouse.duckdb"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("SCORECARD_", "SERVICENOW_", "FOCUS_", "AWS_", "AZURE_", "MEASURES_", "DAGSTER_HOME")
        )
    }
    env["SCORECARD_WAREHOUSE"] = str(published)
    run = subprocess.run(
        [dg, "launch", "--job", "nightly_scorecard"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    with duckdb.connect(str(published), read_only=True) as con:
        counts = dict(
            con.execute(
                "SELECT 'incidents', count(*) FROM core.incidents UNION ALL "
                "SELECT 'changes', count(*) FROM core.changes UNION ALL "
                "SELECT 'metric_values', count(value) FROM kpi.metric_values UNION ALL "
                "SELECT 'statuses', count(status) FROM scorecard.metric_status UNION ALL "
                "SELECT 'data_quality', count(*) FROM scorecard.data_quality"
            ).fetchall()
        )
        sources = {
            r[0] for r in con.execute("SELECT DISTINCT source FROM core.incidents").fetchall()
        }
    assert counts["incidents"] > 1000
    assert counts["changes"] > 100
    assert counts["metric_values"] > 0
    assert counts["statuses"] > 0
    # The demo ships a few bad records; they are counted, not dropped silently or fatal.
    assert counts["data_quality"] > 0
    assert sources == {"servicenow"}
