"""Names of groups and services over the emulated Table API: one name per referenced record.

A display value is the referenced record's name when the record was read; a rename at the source
updates none of the records pointing at it. Staging names each sys_id once, with its newest name
across every ServiceNow table, and tells apart records of one kind that share a name."""

from __future__ import annotations

from test_servicenow_support import source_for, stage

from connectors.emulators.servicenow import Credentials, serve
from connectors.emulators.servicenow_tables import MemoryTable, Record
from connectors.servicenow import TABLE_FIELDS
from warehouse.ingest import ingest

USER = Credentials("tester", "s3cret-pass")
CREATED = "2025-01-01 00:00:00"
NETWORK = "3f2a0c1d9b8e4f7a6c5d4e3f2a1b0c9d"
MAIL = "77aa5e0b1c2d3e4f5a6b7c8d9e0f1a2b"
ACME_DESK = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
GLOBEX_DESK = "c3d4e5f60718293a4b5c6d7e8f90a1b2"
INITECH_DESK = "c3d4ffffffffffffffffffffffffffff"


def named(sys_id: str, name: str, updated: str = CREATED) -> Record:
    return {"sys_id": sys_id, "name": name, "sys_created_on": CREATED, "sys_updated_on": updated}


def incident(n: int, updated: str, group: str = "", service: str = "") -> Record:
    return {
        "sys_id": f"inc{n:029d}",
        "number": f"INC{n:07d}",
        "sys_updated_on": updated,
        "opened_at": "2025-05-01 09:00:00",
        "resolved_at": "2025-05-01 11:00:00",
        "state": "6",
        "priority": "3",
        "assignment_group": group,
        "business_service": service,
    }


def instance() -> dict[str, MemoryTable]:
    """The Network group and the Mail service: four incidents, a change, an outage and an SLA
    clock point at them; one more incident has neither."""
    tables = {name: MemoryTable.of(name) for name in TABLE_FIELDS}
    tables["sys_user_group"] = MemoryTable.of("sys_user_group", [named(NETWORK, "Network")])
    tables["cmdb_ci_service"] = MemoryTable.of("cmdb_ci_service", [named(MAIL, "Mail")])
    tables["incident"] = MemoryTable.of(
        "incident",
        [incident(n, f"2025-05-01 1{n}:00:00", NETWORK, MAIL) for n in range(4)]
        + [incident(9, "2025-05-01 19:00:00")],
    )
    tables["change_request"] = MemoryTable.of(
        "change_request",
        [
            {
                "sys_id": "chg" + "1".zfill(29),
                "number": "CHG0000001",
                "sys_updated_on": "2025-05-02 10:00:00",
                "state": "3",
                "type": "normal",
                "close_code": "successful",
                "assignment_group": NETWORK,
                "business_service": MAIL,
            }
        ],
    )
    tables["cmdb_ci_outage"] = MemoryTable.of(
        "cmdb_ci_outage",
        [
            {
                "sys_id": "out" + "1".zfill(29),
                "number": "OUT0000001",
                "sys_updated_on": "2025-05-03 10:00:00",
                "cmdb_ci": MAIL,
                "type": "outage",
                "begin": "2025-05-03 09:00:00",
                "end": "2025-05-03 09:30:00",
            }
        ],
    )
    tables["task_sla"] = MemoryTable.of(
        "task_sla",
        [
            {
                "sys_id": "sla" + "1".zfill(29),
                "sys_updated_on": "2025-05-01 11:00:00",
                "task": "inc" + "1".zfill(29),
                "stage": "completed",
            }
        ],
    )
    return tables


def names(con) -> dict[str, tuple[str | None, str | None]]:
    """(service, assignment group) by record number, SLA clocks by their task's number."""
    rows = con.execute(
        "SELECT number, service, assignment_group FROM core.incidents "
        "UNION ALL SELECT number, service, assignment_group FROM core.changes "
        "UNION ALL SELECT number, service, NULL FROM core.outages "
        "UNION ALL SELECT 'SLA ' || task_number, service, NULL FROM core.sla_records"
    ).fetchall()
    return {number: (service, group) for number, service, group in rows}


def test_a_group_and_a_service_renamed_between_runs_take_the_new_name_on_every_record(warehouse):
    tables = instance()
    with serve(tables, USER) as server, warehouse.connect() as con:
        source = source_for(server.url)
        ingest(con, source, "first")
        stage(con)
        before = names(con)
        # Renamed at the source; of all the records pointing at them only INC0000000 changes.
        tables["sys_user_group"].put(named(NETWORK, "Network Operations", "2025-06-01 00:00:00"))
        tables["cmdb_ci_service"].put(named(MAIL, "Email", "2025-06-01 00:00:00"))
        tables["incident"].put(incident(0, "2025-06-01 10:00:00", NETWORK, MAIL))
        ingest(con, source, "second")
        stage(con)
        after = names(con)
        shown = con.execute(
            "SELECT list(DISTINCT record ->> '$.assignment_group.display_value' ORDER BY 1) "
            "FROM raw.servicenow_incident WHERE record ->> '$.assignment_group.value' <> ''"
        ).fetchall()[0][0]
    # The raw records still show both names: untouched ones were read before the rename.
    assert shown == ["Network", "Network Operations"]
    old, new = ("Mail", "Network"), ("Email", "Network Operations")
    assert before == {
        "INC0000000": old,
        "INC0000001": old,
        "INC0000002": old,
        "INC0000003": old,
        "INC0000009": (None, None),  # no group, no service: stays empty
        "CHG0000001": old,
        "OUT0000001": ("Mail", None),
        "SLA INC0000001": ("Mail", None),
    }
    # One record read after the rename names the group and the service for all the others,
    # in every table: the untouched change, outage and SLA clock too.
    assert after == {
        "INC0000000": new,
        "INC0000001": new,
        "INC0000002": new,
        "INC0000003": new,
        "INC0000009": (None, None),
        "CHG0000001": new,
        "OUT0000001": ("Email", None),
        "SLA INC0000001": ("Email", None),
    }


def test_groups_sharing_a_name_are_told_apart_by_their_sys_id(warehouse):
    tables = {name: MemoryTable.of(name) for name in TABLE_FIELDS}
    tables["sys_user_group"] = MemoryTable.of(
        "sys_user_group",
        [
            named(ACME_DESK, "Service Desk"),
            named(GLOBEX_DESK, "Service Desk"),
            named(INITECH_DESK, "Service Desk"),
            named(NETWORK, "Network"),
        ],
    )
    # A service may share a group's name: they are counted in different columns.
    tables["cmdb_ci_service"] = MemoryTable.of("cmdb_ci_service", [named(MAIL, "Network")])
    groups = (ACME_DESK, GLOBEX_DESK, INITECH_DESK, NETWORK, ACME_DESK)
    tables["incident"] = MemoryTable.of(
        "incident",
        [incident(n, f"2025-05-01 1{n}:00:00", g, MAIL) for n, g in enumerate(groups)],
    )
    with serve(tables, USER) as server, warehouse.connect() as con:
        ingest(con, source_for(server.url), "first")
        stage(con)
        got = names(con)
        per_group = con.execute(
            "SELECT assignment_group, count(*) FROM core.incidents GROUP BY 1 ORDER BY 1"
        ).fetchall()
    # The first four characters of the sys_id tell Acme's desk apart; Globex's and Initech's
    # share theirs (c3d4), so each of those two carries its whole sys_id. Network is unique.
    assert got == {
        "INC0000000": ("Network", "Service Desk (a1b2)"),
        "INC0000001": ("Network", f"Service Desk ({GLOBEX_DESK})"),
        "INC0000002": ("Network", f"Service Desk ({INITECH_DESK})"),
        "INC0000003": ("Network", "Network"),
        "INC0000004": ("Network", "Service Desk (a1b2)"),
    }
    assert per_group == [
        ("Network", 1),
        ("Service Desk (a1b2)", 2),
        (f"Service Desk ({GLOBEX_DESK})", 1),
        (f"Service Desk ({INITECH_DESK})", 1),
    ]


def test_services_sharing_a_name_keep_it(warehouse):
    """A business service and an application CI both called Email are the service that costs,
    on-call and spreadsheets name Email too: only groups are told apart by their sys_id."""
    other_mail = "88bb6f1c2d3e4f5a6b7c8d9e0f1a2b3c"
    tables = {name: MemoryTable.of(name) for name in TABLE_FIELDS}
    tables["sys_user_group"] = MemoryTable.of("sys_user_group", [named(NETWORK, "Network")])
    tables["cmdb_ci_service"] = MemoryTable.of(
        "cmdb_ci_service", [named(MAIL, "Email"), named(other_mail, "Email")]
    )
    tables["incident"] = MemoryTable.of(
        "incident",
        [
            incident(0, "2025-05-01 10:00:00", NETWORK, MAIL),
            incident(1, "2025-05-01 11:00:00", NETWORK, other_mail),
        ],
    )
    with serve(tables, USER) as server, warehouse.connect() as con:
        ingest(con, source_for(server.url), "first")
        stage(con)
        per_service = con.execute(
            "SELECT service, count(*) FROM core.incidents GROUP BY 1"
        ).fetchall()
    assert per_service == [("Email", 2)]


def test_groups_whose_names_differ_only_by_letter_case_are_told_apart_by_their_sys_id(warehouse):
    """The KPIs read names without letter case, so Acme's "Service Desk" and Globex's "service
    desk" would become one group there: as two groups sharing a name, each carries its sys_id."""
    tables = {name: MemoryTable.of(name) for name in TABLE_FIELDS}
    tables["sys_user_group"] = MemoryTable.of(
        "sys_user_group", [named(ACME_DESK, "Service Desk"), named(GLOBEX_DESK, "service desk")]
    )
    tables["cmdb_ci_service"] = MemoryTable.of("cmdb_ci_service", [named(MAIL, "Email")])
    tables["incident"] = MemoryTable.of(
        "incident",
        [
            incident(0, "2025-05-01 10:00:00", ACME_DESK, MAIL),
            incident(1, "2025-05-01 11:00:00", GLOBEX_DESK, MAIL),
        ],
    )
    with serve(tables, USER) as server, warehouse.connect() as con:
        ingest(con, source_for(server.url), "first")
        stage(con)
        got = names(con)
    assert got == {
        "INC0000000": ("Email", "Service Desk (a1b2)"),
        "INC0000001": ("Email", "service desk (c3d4)"),
    }


def test_a_reference_holding_a_name_instead_of_a_sys_id_is_the_record_of_that_name(warehouse):
    """An import or a script can store a name where a reference wants a sys_id ("Email", not
    the Email service's sys_id); the Table API then shows no display value for it. That record
    still names its service and group, the ones the other records reach by sys_id; a name no
    record holds ("Payroll") is the service of that name, and a sys_id of a deleted record
    (no display value) still names none."""
    gone = "0123456789abcdef0123456789abcdef"
    tables = {name: MemoryTable.of(name) for name in TABLE_FIELDS}
    tables["sys_user_group"] = MemoryTable.of("sys_user_group", [named(NETWORK, "Network")])
    tables["cmdb_ci_service"] = MemoryTable.of("cmdb_ci_service", [named(MAIL, "Email")])
    tables["incident"] = MemoryTable.of(
        "incident",
        [
            incident(0, "2025-05-01 10:00:00", NETWORK, MAIL),
            incident(1, "2025-05-01 11:00:00", "network ", "Email"),
            incident(2, "2025-05-01 12:00:00", gone, "Payroll"),
        ],
    )
    with serve(tables, USER) as server, warehouse.connect() as con:
        ingest(con, source_for(server.url), "first")
        stage(con)
        got = names(con)
    assert got == {
        "INC0000000": ("Email", "Network"),
        "INC0000001": ("Email", "Network"),
        "INC0000002": ("Payroll", None),
    }
