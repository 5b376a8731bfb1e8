"""The README's first command: the nightly job end to end on the demo, through the real CLI."""

import duckdb

from tests.conftest import launch_nightly_job


def test_nightly_job_on_the_demo_publishes_a_populated_warehouse(tmp_path):
    published = tmp_path / "warehouse.duckdb"
    launch_nightly_job(SCORECARD_WAREHOUSE=str(published))
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
        sources = {r[0] for r in con.execute("SELECT DISTINCT source FROM core.costs").fetchall()}
    assert counts["incidents"] > 1000
    assert counts["changes"] > 100
    assert counts["metric_values"] > 0
    assert counts["statuses"] > 0
    # The demo ships a few bad records; they are counted, not dropped silently or fatal.
    assert counts["data_quality"] > 0
    # Every cost source of the demo arrived through its connector.
    assert sources == {"focus", "aws_ce", "azure_cost"}
