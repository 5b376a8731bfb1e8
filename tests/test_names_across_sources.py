"""Names of services and groups as several sources spell them, staged over the real emulators.

People type names with a stray space before, after or inside them ("Email ", "Service  Desk"),
and copy-paste or spreadsheet exports leave invisible characters in them (a zero-width space, a
byte-order mark, a soft hyphen) or spell an accent as a separate mark; the sources keep them as
typed. Staging names a service or group by its words alone, so one service stays one across
sources and a name of spaces alone is no name."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import duckdb
from test_freshservice_connector import ticket
from test_jira_connector import issue
from test_pagerduty_connector import pd_incident
from test_servicenow_reference_names import MAIL, NETWORK, USER, incident, named
from test_servicenow_support import source_for
from test_servicenow_support import stage as stage_servicenow

from connectors.emulators.freshservice import FreshserviceApi
from connectors.emulators.freshservice import serve as serve_freshservice
from connectors.emulators.jira import JiraApi
from connectors.emulators.jira import serve as serve_jira
from connectors.emulators.pagerduty import PagerDutyApi
from connectors.emulators.pagerduty import serve as serve_pagerduty
from connectors.emulators.pagerduty_data import sample_services
from connectors.emulators.servicenow import serve as serve_servicenow
from connectors.emulators.servicenow_tables import MemoryTable
from connectors.freshservice import from_env as freshservice_from_env
from connectors.jira import from_env as jira_from_env
from connectors.pagerduty import from_env
from connectors.servicenow import TABLE_FIELDS
from transforms.staging import prepare, stage
from warehouse.ingest import ingest

OTHER_NETWORK = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
NAMELESS = "00ff00ff00ff00ff00ff00ff00ff00ff"
AS_OF = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TOKEN = "pd-Secret-token"
JIRA_EMAIL, JIRA_TOKEN = "scorecard@example.com", "jira-T0ken-secret"
FRESHSERVICE_KEY = "fs-Api-key-secret"


def at_hour(n: int) -> str:
    """The n-th hour after 10:00 on 1 May 2025, when these records were made."""
    return f"2025-05-01T{10 + n:02d}:00:00"


def test_a_service_or_group_named_with_stray_spaces_is_the_one_other_sources_name(warehouse):
    # ServiceNow: the Email service typed with spaces around it; two Network groups, one typed
    # with a space before it; a group whose name is spaces alone.
    tables = {name: MemoryTable.of(name) for name in TABLE_FIELDS}
    tables["sys_user_group"] = MemoryTable.of(
        "sys_user_group",
        [named(NETWORK, " Network"), named(OTHER_NETWORK, "Network"), named(NAMELESS, "   ")],
    )
    tables["cmdb_ci_service"] = MemoryTable.of("cmdb_ci_service", [named(MAIL, " Email ")])
    tables["incident"] = MemoryTable.of(
        "incident",
        [
            incident(0, "2025-05-01 10:00:00", NETWORK, MAIL),
            incident(1, "2025-05-01 11:00:00", OTHER_NETWORK, MAIL),
            incident(2, "2025-05-01 12:00:00", NAMELESS, MAIL),
        ],
    )
    # PagerDuty: the same service as "Email" and as "E-mail  Relay\n" (a line break typed in),
    # its on-call team as "Messaging " with a soft hyphen inside, and a team whose name is a tab.
    started = time.time() - 60
    services = [
        {"id": "PSVC001", "name": "Email", "team": ("PTEAM01", "Mess\u00adaging ")},
        {"id": "PSVC002", "name": "E-mail  Relay\n", "team": ("PTEAM02", "\t")},
    ]
    api = PagerDutyApi(
        [
            pd_incident(
                1,
                at_hour(1),
                service={"id": "PSVC001", "name": "Email"},
                teams=[{"id": "PTEAM01", "name": "Mess\u00adaging "}],
            ),
            pd_incident(
                2,
                at_hour(2),
                service={"id": "PSVC002", "name": "E-mail  Relay\n"},
                teams=[{"id": "PTEAM02", "name": "\t"}],
            ),
        ],
        sample_services(services),
        TOKEN,
        clock=lambda: AS_OF.timestamp() + time.time() - started,
    )
    # Jira: components typed "Email ", spaces alone, and "Email" behind a byte-order mark (a
    # name pasted from a spreadsheet export), on an incident, a request and a change.
    jira = JiraApi(
        [
            issue(1, "Incident", at_hour(1), components=["Email "]),
            issue(2, "Incident", at_hour(2), components=["  "]),
            issue(3, "Service Request", at_hour(3), components=["\ufeffEmail"]),
            issue(4, "Change", at_hour(4), components=["Email\t"]),
        ],
        JIRA_EMAIL,
        JIRA_TOKEN,
        clock=lambda: AS_OF.timestamp() + time.time() - started,
    )
    # Freshservice: the ticket category (its service) typed " Email" and "Email" with a
    # zero-width space after it.
    freshservice = FreshserviceApi(
        [
            ticket(1, "Incident", at_hour(1), category=" Email"),
            ticket(2, "Service Request", at_hour(2), category="Email\u200b "),
        ],
        [],
        FRESHSERVICE_KEY,
        clock=lambda: AS_OF.timestamp() + time.time() - started,
        # Its group 1001 is PagerDuty's Messaging team, typed with a space after it.
        groups=[{"id": 1001, "name": "Messaging ", "updated_at": AS_OF - timedelta(days=30)}],
    )
    with (
        serve_freshservice(freshservice) as freshservice_site,
        serve_servicenow(tables, USER) as servicenow,
        serve_pagerduty(api) as pagerduty,
        serve_jira(jira) as jira_site,
        warehouse.connect() as con,
    ):
        ingest(con, source_for(servicenow.url), "first")
        ingest(con, from_env({"PAGERDUTY_API_URL": pagerduty.url, "PAGERDUTY_TOKEN": TOKEN}))
        jira_env = {"JIRA_BASE_URL": jira_site.url, "JIRA_JQL": "project = ITSM"}
        ingest(
            con, jira_from_env(jira_env | {"JIRA_EMAIL": JIRA_EMAIL, "JIRA_API_TOKEN": JIRA_TOKEN})
        )
        freshservice_env = {"FRESHSERVICE_URL": freshservice_site.url}
        ingest(
            con,
            freshservice_from_env(freshservice_env | {"FRESHSERVICE_API_KEY": FRESHSERVICE_KEY}),
        )
        stage_servicenow(con)
        for table in ("incidents", "requests", "sla_records"):
            stage(con, "freshservice", table)
        stage(con, "pagerduty", "incidents")
        for table in ("incidents", "requests", "changes"):
            stage(con, "jira", table)
        rows = con.execute(
            "SELECT number, source, service, assignment_group FROM core.incidents ORDER BY 2, 1"
        ).fetchall()
        jira_others = con.execute(
            "SELECT number, service FROM core.requests WHERE source = 'jira' UNION ALL "
            "SELECT number, service FROM core.changes ORDER BY 1"
        ).fetchall()
        freshservice_services = con.execute(
            "SELECT DISTINCT service FROM core.requests WHERE source = 'freshservice' UNION ALL "
            "SELECT DISTINCT service FROM core.sla_records WHERE source = 'freshservice'"
        ).fetchall()
    # The two Network groups share the name once its space is gone, so each is told apart by
    # the first four characters of its sys_id; a name of spaces alone names no group.
    assert rows == [
        ("1", "freshservice", "Email", "Messaging"),
        ("ITSM-1", "jira", "Email", None),
        ("ITSM-2", "jira", None, None),
        ("1", "pagerduty", "Email", "Messaging"),
        ("2", "pagerduty", "E-mail Relay", None),
        ("INC0000000", "servicenow", "Email", "Network (3f2a)"),
        ("INC0000001", "servicenow", "Email", "Network (9e8d)"),
        ("INC0000002", "servicenow", "Email", None),
    ]
    assert jira_others == [("ITSM-3", "Email"), ("ITSM-4", "Email")]
    assert freshservice_services == [("Email",), ("Email",)]


def test_a_name_reads_the_same_whatever_invisible_characters_or_accent_marks_it_carries():
    con = duckdb.connect()
    prepare(con, "SELECT 1")
    spellings = {
        "Café": "Caf\u00e9",  # the accented letter
        "Café with a separate accent mark": "Cafe\u0301",
        "zero-width space inside": "Ca\u200bf\u00e9",
        "byte-order mark and non-breaking space around": "\ufeffCaf\u00e9\u00a0",
        "zero-width joiner": "Caf\u00e9\u200d",
    }
    names = {
        label: con.execute("SELECT display_name(?)", [typed]).fetchall()[0][0]
        for label, typed in spellings.items()
    }
    assert names == dict.fromkeys(spellings, "Caf\u00e9")
    assert con.execute("SELECT display_name('\u200b \u00ad\t')").fetchall() == [(None,)]
