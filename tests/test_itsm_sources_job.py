"""Done when: Jira, PagerDuty and Freshservice each run alone, and together with ServiceNow,
through the launched nightly job, configured only by the environment variables of DESIGN.md."""

from __future__ import annotations

import duckdb
import pytest

from connectors.emulators.catalogue import HISTORY_DAYS, demo_as_of
from connectors.emulators.demo import running_demo
from connectors.emulators.freshservice import DEMO_TICKETS
from connectors.emulators.freshservice_data import sample_tickets
from connectors.emulators.jira import DEMO_ISSUES
from connectors.emulators.jira_data import sample_issues
from connectors.emulators.pagerduty import DEMO_INCIDENTS_PER_DAY
from tests.conftest import launch_nightly_job

CORE_KEYS = {"incidents": "incident_id", "changes": "change_id", "requests": "request_id"}


def expected_incidents(as_of) -> dict[str, int]:
    """Incidents each demo emulator serves: its ground truth, counted from the same generators."""
    jira = sample_issues(as_of, DEMO_ISSUES, days=HISTORY_DAYS)
    tickets = sample_tickets(as_of, DEMO_TICKETS, days=HISTORY_DAYS)
    return {
        # Two on-call incidents a day over the demo's history.
        "pagerduty": HISTORY_DAYS * DEMO_INCIDENTS_PER_DAY,
        # JIRA_ISSUE_TYPES defaults: issues of type "Incident" are incidents.
        "jira": sum(1 for i in jira if i["type"] == "Incident"),
        # Freshservice tickets of type "Incident" (the rest are service requests).
        "freshservice": sum(1 for t in tickets if t["type"] == "Incident"),
    }


def run_job(sources: list[str], tmp_path) -> duckdb.DuckDBPyConnection:
    """Start the sources' emulators here, launch the job with their variables only."""
    published = tmp_path / "warehouse.duckdb"
    with running_demo(tmp_path / "emulators", sources, demo_as_of()) as env:
        launch_nightly_job(
            SCORECARD_WAREHOUSE=str(published), SCORECARD_SOURCES=",".join(sources), **env
        )
    return duckdb.connect(str(published), read_only=True)


@pytest.mark.parametrize(
    "sources",
    [
        ["servicenow", "pagerduty", "jira", "freshservice"],
        ["jira"],
        ["pagerduty"],
        ["freshservice"],
    ],
    ids=lambda s: "+".join(s),
)
def test_sources_alone_and_together_land_apart_and_slice_every_kpi_by_source(sources, tmp_path):
    truth = expected_incidents(demo_as_of())
    with run_job(sources, tmp_path) as con:
        incidents = dict(
            con.execute("SELECT source, count(*) FROM core.incidents GROUP BY source").fetchall()
        )
        collisions = {
            table: con.execute(
                f"SELECT count(*) - count(DISTINCT {key}) FROM core.{table}"
            ).fetchall()[0][0]
            for table, key in CORE_KEYS.items()
        }
        prefixed = con.execute(
            "SELECT bool_and(starts_with(incident_id, source || ':')) FROM core.incidents"
        ).fetchall()[0][0]
        sliced = {
            row[0]
            for row in con.execute(
                "SELECT DISTINCT dimension_value FROM kpi.metric_values "
                "WHERE metric_id = 'incident_resolution_time' AND dimension = 'source'"
            ).fetchall()
        }
    assert set(incidents) == set(sources)
    for source in set(sources) & set(truth):
        assert incidents[source] == truth[source], source
    assert collisions == {"incidents": 0, "changes": 0, "requests": 0}
    assert prefixed
    # Resolution time by source has a row for every source that sent incidents.
    assert sliced == set(sources)
