"""Service and group names that differ only by letter case, as the sources spell them.

People type the same service or group as "Email", "email " and "EMAIL" in different records and
sources; the KPIs count them as one dimension value, shown in the spelling seen first."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta

from kpi_fixtures.support import AS_OF as FIXTURE_AS_OF
from kpi_fixtures.support import load_fixture, values_by_key
from test_costs_focus import line, write_csv
from test_freshservice_connector import ticket
from test_jira_connector import issue

from connectors.emulators.freshservice import FreshserviceApi
from connectors.emulators.freshservice import serve as serve_freshservice
from connectors.emulators.jira import JiraApi
from connectors.emulators.jira import serve as serve_jira
from connectors.focus import FocusFiles
from connectors.freshservice import from_env as freshservice_from_env
from connectors.jira import from_env as jira_from_env
from transforms.kpis import compute_metrics
from transforms.staging import stage
from warehouse.ingest import ingest

AS_OF = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
MAY = date(2025, 5, 1)
JIRA_EMAIL, JIRA_TOKEN = "scorecard@example.com", "jira-T0ken-secret"
FRESHSERVICE_KEY = "fs-Api-key-secret"


def cost(amount: str, service: str) -> dict:
    """A FOCUS line item of 2 May 2025 tagged with a service."""
    return line(
        amount,
        day="2025-05-02",
        BillingPeriodStart="2025-05-01 00:00:00",
        BillingPeriodEnd="2025-06-01 00:00:00",
        Tags=json.dumps({"service": service}),
    )


def test_names_differing_only_by_letter_case_are_one_dimension_value(warehouse, tmp_path):
    started = time.time() - 60
    clock = lambda: AS_OF.timestamp() + time.time() - started  # noqa: E731
    at = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
    # Jira: the first record of all, on the service typed "email", resolved in 2 h, no group.
    jira = JiraApi(
        [
            issue(
                1,
                "Incident",
                "2025-05-01T08:00:00",
                components=["email"],
                status="Resolved",
                category="done",
                resolution="Done",
                resolved=at + timedelta(hours=2),
            )
        ],
        JIRA_EMAIL,
        JIRA_TOKEN,
        clock=clock,
    )
    # Freshservice: the service as "Email" and "EMAIL ", the group as "Service Desk" (group
    # 1001, first seen at 10:00) and "service desk " (1002); resolved in 5 h, 1 h and 3 h.
    fresh_at = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
    freshservice = FreshserviceApi(
        [
            ticket(1, "Incident", "2025-05-01T10:00:00", category="Email", group_id=1001),
            ticket(
                2,
                "Incident",
                "2025-05-01T11:00:00",
                category="EMAIL ",
                group_id=1002,
                resolved_at=fresh_at + timedelta(hours=2),
                updated_at=fresh_at + timedelta(hours=2),
            ),
            ticket(
                3,
                "Incident",
                "2025-05-01T12:00:00",
                category="Email",
                group_id=1002,
                resolved_at=fresh_at + timedelta(hours=5),
                updated_at=fresh_at + timedelta(hours=5),
            ),
        ],
        [],
        FRESHSERVICE_KEY,
        clock=clock,
        groups=[
            {"id": 1001, "name": "Service Desk", "updated_at": AS_OF - timedelta(days=30)},
            {"id": 1002, "name": "service desk ", "updated_at": AS_OF - timedelta(days=30)},
        ],
    )
    # FOCUS: the service's cost tagged "Email" (10) and "EMAIL" (20).
    export = write_csv(tmp_path / "may.csv", [cost("10", "Email"), cost("20", "EMAIL")])
    with (
        serve_jira(jira) as jira_site,
        serve_freshservice(freshservice) as freshservice_site,
        warehouse.connect() as con,
    ):
        jira_env = {"JIRA_BASE_URL": jira_site.url, "JIRA_JQL": "project = ITSM"}
        ingest(
            con, jira_from_env(jira_env | {"JIRA_EMAIL": JIRA_EMAIL, "JIRA_API_TOKEN": JIRA_TOKEN})
        )
        freshservice_env = {"FRESHSERVICE_URL": freshservice_site.url}
        ingest(
            con,
            freshservice_from_env(freshservice_env | {"FRESHSERVICE_API_KEY": FRESHSERVICE_KEY}),
        )
        ingest(con, FocusFiles([str(export)]), "run-1")
        for table in ("incidents", "requests", "changes"):
            stage(con, "jira", table)
        for table in ("incidents", "requests", "sla_records"):
            stage(con, "freshservice", table)
        stage(con, "focus", "costs")
        compute_metrics(con, min_n=1, as_of=AS_OF)
        values = values_by_key(con)

    def members(metric: str, dimension: str) -> dict[str, tuple]:
        return {
            key[4]: (value["value"], value["n"])
            for key, value in values.items()
            if key[:4] == (metric, "month", MAY, dimension)
        }

    # Durations: Jira 2 h; Freshservice 5 h, 2 - 1 = 1 h, 5 - 2 = 3 h: one service, spelled as
    # the 08:00 Jira incident spells it; median of [1, 2, 3, 5] = 2.5.
    assert members("incident_resolution_time", "service") == {"email": (2.5, 4)}
    # The Freshservice tickets are one group, "Service Desk" (10:00) before "service desk"
    # (11:00): median of [1, 3, 5] = 3; the Jira incident has no group.
    assert members("incident_resolution_time", "assignment_group") == {
        "Service Desk": (3.0, 3),
        "(unknown)": (2.0, 1),
    }
    # Cost by service: 10 + 20 = 30 for the service the tickets name.
    spend = members("cloud_spend", "service")
    assert list(spend) == ["email"]
    assert spend["email"][0] == 30.0


def test_availability_counts_a_service_once_whatever_the_case_its_outages_are_named_in(warehouse):
    """CRM, watched from its incident of 1 Jan (Berlin), has outages recorded against "crm" (60
    minutes on 10 Jan) and "CRM" (30 minutes on 20 Jan). January: agreed 31 x 1440 = 44,640
    minutes, 90 down: one service, not a second one watched from 10 Jan."""
    with warehouse.connect() as con:
        load_fixture(con)
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number, opened_at, resolved_at, "
            "state, service, priority) VALUES ('CRM-0', 'servicenow', 'CRM0', "
            "'2024-01-01 00:00+01', '2024-01-01 01:00+01', 'resolved', 'CRM', 3)"
        )
        con.execute(
            "INSERT INTO core.outages (outage_id, source, service, type, begin_at, end_at) VALUES "
            "('O-1', 'servicenow', 'crm', 'outage', '2024-01-10 10:00+01', '2024-01-10 11:00+01'),"
            "('O-2', 'servicenow', 'CRM', 'outage', '2024-01-20 10:00+01', '2024-01-20 10:30+01')"
        )
        compute_metrics(con, timezone="Europe/Berlin", min_n=1, as_of=FIXTURE_AS_OF)
        values = values_by_key(con)
    crm = {
        key[4]: (value["numerator"], value["denominator"])
        for key, value in values.items()
        if key[:4] == ("service_availability", "month", date(2024, 1, 1), "service")
        and key[4].lower() == "crm"
    }
    assert crm == {"CRM": (44640 - 90, 44640)}
