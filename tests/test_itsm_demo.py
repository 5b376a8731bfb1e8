"""The demo's service desk and on-call sources: PagerDuty beside ServiceNow, or the JSM set."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.emulators.catalogue import HISTORY_DAYS, SERVICES, TEAMS
from connectors.emulators.demo import demo_sources, running_demo
from connectors.emulators.pagerduty import DEMO_INCIDENTS_PER_DAY
from connectors.registry import source_from_env
from transforms.staging import stage, staged_tables
from warehouse.ingest import ingest

AS_OF = datetime(2025, 3, 1, tzinfo=UTC)


def test_demo_sets_put_pagerduty_beside_servicenow_or_jsm_and_freshservice():
    costs = ["focus", "aws_ce", "azure_cost", "measures"]
    assert demo_sources({}) == ["servicenow", "pagerduty", *costs]
    assert demo_sources({"SCORECARD_DEMO": "jsm"}) == ["jira", "freshservice", "pagerduty", *costs]
    with pytest.raises(ValueError, match="SCORECARD_DEMO='zendesk' is not a demo set"):
        demo_sources({"SCORECARD_DEMO": "zendesk"})


def test_pagerduty_demo_pages_incidents_on_the_catalogue_services(warehouse, tmp_path):
    with running_demo(tmp_path, ["pagerduty"], AS_OF) as env, warehouse.connect() as con:
        ingest(con, source_from_env("pagerduty", env), "run-1")
        stage(con, "pagerduty", "incidents")
        count, services, open_incidents = con.execute(
            "SELECT count(*), list(DISTINCT service ORDER BY service), "
            "count(*) FILTER (WHERE resolved_at IS NULL) FROM core.incidents"
        ).fetchall()[0]
    # Two incidents a day over the demo's history, every one on a catalogue service.
    assert count == HISTORY_DAYS * DEMO_INCIDENTS_PER_DAY
    assert services == sorted(s.name for s in SERVICES)
    assert open_incidents < count


@pytest.mark.parametrize("source", ["jira", "freshservice"])
def test_jsm_demo_sources_load_through_their_connectors(source, warehouse, tmp_path):
    with running_demo(tmp_path, [source], AS_OF) as env, warehouse.connect() as con:
        ingest(con, source_from_env(source, env), "run-1")
        for table in staged_tables(source):
            stage(con, source, table)
        incidents = con.execute(
            "SELECT count(*) FROM core.incidents WHERE source = ?", [source]
        ).fetchall()[0][0]
        changes = con.execute(
            "SELECT count(*) FROM core.changes WHERE source = ?", [source]
        ).fetchall()[0][0]
    assert incidents > 100
    assert changes > 50


def test_freshservice_demo_names_ticket_groups_as_the_other_sources_name_teams(warehouse, tmp_path):
    with running_demo(tmp_path, ["freshservice"], AS_OF) as env, warehouse.connect() as con:
        ingest(con, source_from_env("freshservice", env), "run-1")
        for table in staged_tables("freshservice"):
            stage(con, "freshservice", table)
        groups = con.execute(
            "SELECT list(DISTINCT assignment_group ORDER BY assignment_group) FROM ("
            "SELECT assignment_group FROM core.incidents UNION ALL "
            "SELECT assignment_group FROM core.requests) WHERE assignment_group IS NOT NULL"
        ).fetchall()[0][0]
    assert groups == ["Network Ops", "Service Desk"]
    assert set(groups) <= set(TEAMS)
