"""The README's first command: the nightly job end to end on the demo, through the real CLI."""

import duckdb

from tests.conftest import launch_nightly_job


def test_nightly_job_on_the_demo_publishes_a_populated_warehouse(tmp_path):
    published = tmp_path / "warehouse.duckdb"
    # The night after November 2026, the month the shipped commentary template speaks of.
    launch_nightly_job(SCORECARD_WAREHOUSE=str(published), SCORECARD_AS_OF="2026-12-01T02:00:00")
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
        actions = dict(
            con.execute(
                "SELECT status, count(*) FROM scorecard.actions WHERE scorecard_id = 'it' "
                "GROUP BY status"
            ).fetchall()
        )
        resolved_after_opening = con.execute(
            "SELECT count(*) FROM scorecard.actions "
            "WHERE status = 'resolved' AND resolved_period > opened_period"
        ).fetchall()[0][0]
        governance = con.execute(
            "SELECT record_key, field, problem FROM scorecard.data_quality "
            "WHERE source = 'scorecard' AND table_name = 'governance'"
        ).fetchall()
        lead_time = con.execute(
            "SELECT objective, threshold, target, stretch, direction, count(actual) "
            "FROM scorecard.metric_status "
            "WHERE scorecard_id = 'it' AND metric_id = 'change_lead_time' GROUP BY ALL"
        ).fetchall()
    assert counts["incidents"] > 1000
    assert counts["changes"] > 100
    assert counts["metric_values"] > 0
    assert counts["statuses"] > 0
    # The demo ships a few bad records; they are counted, not dropped silently or fatal.
    assert counts["data_quality"] > 0
    # Every cost source of the demo arrived through its connector.
    assert sources == {"focus", "aws_ce", "azure_cost"}
    # The monthly review has material in one night: escalations still open, triggers of earlier
    # months that cleared (resolved in a later period) and the decision in the shipped
    # commentary that closed change_failure_rate's action.
    assert actions.get("open", 0) >= 1
    assert actions.get("resolved", 0) >= 1 and resolved_after_opening >= 1
    assert actions.get("closed", 0) >= 1
    # The shipped scorecard.yaml leaves one initiative without an owner on purpose.
    assert ("it/initiatives/self_service_portal", "owner", "initiative has no owner") in governance
    # DORA's fourth key is on the scorecard, scored with the shipped goals (168 h / 24 h / 4 h).
    assert len(lead_time) == 1
    assert lead_time[0][:5] == ("Change safely and often", 168.0, 24.0, 4.0, "lower")
    assert lead_time[0][5] > 0
