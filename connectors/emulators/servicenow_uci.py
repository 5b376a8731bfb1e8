"""The UCI "incident management process enriched event log" as an emulated instance's tables.

The log (CC BY 4.0; Amaral, Fantinato, Peres; UCI Machine Learning Repository, dataset 498) is the
audit trail of a real ServiceNow instance: one row per update, display values instead of codes,
`?` for empty and day/month/year dates. The latest state of an incident is its row with the
highest sys_mod_count; this module turns that row back into what the Table API would hold.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

from connectors.emulators.servicenow_demo import sys_id
from connectors.emulators.servicenow_tables import TIME_FORMAT, MemoryTable, Record

# Display labels of incident_state in the log -> the state codes the Table API stores.
STATE_CODES = {
    "New": "1",
    "Active": "2",
    "Awaiting User Info": "3",
    "Awaiting Problem": "3",
    "Awaiting Vendor": "3",
    "Awaiting Evidence": "3",
    "Resolved": "6",
    "Closed": "7",
}
CONTACT_TYPES = {
    "Phone": "phone",
    "Email": "email",
    "Self service": "self-service",
    "IVR": "ivr",
    "Direct opening": "direct_opening",
}
_CREATED = "2016-01-01 00:00:00"


def latest_rows(path: Path) -> dict[str, dict[str, str]]:
    """Each incident's row with the highest sys_mod_count (the later row wins a tie)."""
    latest: dict[str, tuple[int, dict[str, str]]] = {}
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".csv"))
        with archive.open(name) as raw:
            for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")):
                count = int(row["sys_mod_count"])
                held = latest.get(row["number"])
                if held is None or count >= held[0]:
                    latest[row["number"]] = (count, row)
    return {number: row for number, (_, row) in latest.items()}


def uci_tables(path: Path) -> dict[str, MemoryTable]:
    """Incidents, their groups and configuration items; the other tables are empty."""
    groups: dict[str, Record] = {}
    items: dict[str, Record] = {}
    incidents = []
    for row in latest_rows(path).values():
        incidents.append(_incident(row, groups, items))
    return {
        "incident": MemoryTable.of("incident", incidents),
        "sys_user_group": MemoryTable.of("sys_user_group", groups.values()),
        "cmdb_ci": MemoryTable.of("cmdb_ci", items.values()),
        **{
            name: MemoryTable.of(name)
            for name in ("change_request", "sc_req_item", "task_sla", "cmdb_ci_outage")
        },
    }


def _incident(row: dict[str, str], groups: dict[str, Record], items: dict[str, Record]) -> Record:
    def text(column: str) -> str:
        value = row[column].strip()
        return "" if value == "?" else value

    def code(column: str) -> str:
        return text(column).split(" - ", 1)[0]

    def change(column: str) -> str:
        return sys_id("change_request", text(column)) if text(column) else ""

    return {
        "sys_id": sys_id("incident", row["number"]),
        "number": row["number"],
        "sys_created_on": _datetime(text("sys_created_at")) or _datetime(text("opened_at")),
        "sys_updated_on": _datetime(text("sys_updated_at")),
        "sys_mod_count": text("sys_mod_count"),
        "state": STATE_CODES.get(text("incident_state"), text("incident_state")),
        "impact": code("impact"),
        "urgency": code("urgency"),
        "priority": code("priority"),
        "opened_at": _datetime(text("opened_at")),
        "resolved_at": _datetime(text("resolved_at")),
        "closed_at": _datetime(text("closed_at")),
        "category": text("category"),
        "subcategory": text("subcategory"),
        "assignment_group": _reference(groups, "group", text("assignment_group")),
        "cmdb_ci": _reference(items, "ci", text("cmdb_ci")),
        "business_service": "",
        "contact_type": CONTACT_TYPES.get(text("contact_type"), text("contact_type").lower()),
        "caused_by": change("caused_by"),
        "rfc": change("rfc"),
        "problem_id": text("problem_id"),
        "reopen_count": text("reopen_count"),
        "reassignment_count": text("reassignment_count"),
        "made_sla": text("made_sla"),
        "close_code": text("closed_code"),
        "knowledge": text("knowledge"),
    }


def _reference(table: dict[str, Record], kind: str, name: str) -> str:
    if not name:
        return ""
    key = sys_id(kind, name)
    table.setdefault(
        key,
        {
            "sys_id": key,
            "name": name,
            "sys_created_on": _CREATED,
            "sys_updated_on": _CREATED,
            "sys_mod_count": "0",
        },
    )
    return key


def _datetime(text: str) -> str:
    """`29/2/2016 01:16` -> `2016-02-29 01:16:00`; anything else is kept as found."""
    if not text:
        return ""
    try:
        return datetime.strptime(text, "%d/%m/%Y %H:%M").strftime(TIME_FORMAT)
    except ValueError:
        return text
