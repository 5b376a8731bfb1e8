"""A million-incident instance computed on demand, for benchmarks; run it as its own process.

`python -m connectors.emulators.servicenow_bulk COUNT` serves COUNT generated incidents on
loopback, prints its URL on the first line of stdout and runs until stdin closes, so the
benchmark measures the client's memory, not the emulator's.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from connectors.emulators.catalogue import SERVICES, TEAMS
from connectors.emulators.servicenow import Credentials, serve
from connectors.emulators.servicenow_demo import sys_id
from connectors.emulators.servicenow_tables import (
    SCHEMAS,
    TIME_FORMAT,
    GeneratedTable,
    MemoryTable,
    Record,
)

CREDENTIALS = Credentials("bench", "bench-only-password")
_CREATED = "2020-01-01 00:00:00"


def bulk_tables(count: int) -> dict[str, GeneratedTable | MemoryTable]:
    """`count` incidents made on request, their groups and services, and empty other tables."""
    groups = [sys_id("group", team) for team in TEAMS]
    services = [sys_id("service", service.name) for service in SERVICES]
    incidents = GeneratedTable(SCHEMAS["incident"], count, make=lambda index: {})

    def make(index: int) -> Record:
        updated = incidents.updated_on(index)
        opened = incidents.start + timedelta(seconds=index // incidents.per_second - 86400)
        priority = 1 + index * 7 % 5
        return {
            "sys_id": f"{index:032x}",
            "number": f"INC{index:09d}",
            "sys_updated_on": updated,
            "sys_created_on": opened.strftime(TIME_FORMAT),
            "state": "7" if index % 10 else "2",
            "priority": str(priority),
            "opened_at": opened.strftime(TIME_FORMAT),
            "resolved_at": (opened + timedelta(hours=priority * 5)).strftime(TIME_FORMAT),
            "closed_at": updated if index % 10 else "",
            "category": "software",
            "assignment_group": groups[index % len(groups)],
            "business_service": services[index % len(services)],
            "cmdb_ci": "",
            "contact_type": ("phone", "email", "self-service")[index % 3],
            "caused_by": "",
            "rfc": "",
            "reopen_count": "0",
            "reassignment_count": str(index % 3),
            "made_sla": "true" if index % 7 else "false",
            "close_code": "Solved (Permanently)",
        }

    incidents.make = make
    base = {"sys_created_on": _CREATED, "sys_updated_on": _CREATED}
    return {
        "incident": incidents,
        "sys_user_group": MemoryTable.of(
            "sys_user_group",
            [{**base, "sys_id": sys_id("group", t), "name": t} for t in TEAMS],
        ),
        "cmdb_ci_service": MemoryTable.of(
            "cmdb_ci_service",
            [{**base, "sys_id": sys_id("service", s.name), "name": s.name} for s in SERVICES],
        ),
        **{
            name: MemoryTable.of(name)
            for name in ("change_request", "sc_req_item", "task_sla", "cmdb_ci_outage")
        },
    }


def main() -> None:
    server = serve(bulk_tables(int(sys.argv[1])), CREDENTIALS)
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
