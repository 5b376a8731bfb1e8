"""The emulated instance's dictionary (field types, choices, references) and its record stores.

Stores keep records as the Table API holds them internally: every value a string, references as
bare sys_ids, datetimes `YYYY-MM-DD HH:MM:SS` in UTC. Each store can scan in
(sys_updated_on, sys_id) order from a lower bound, so a keyset query over a million records
touches only the page it returns.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

Record = dict[str, str]
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Field:
    kind: str = "string"  # string | integer | boolean | datetime | duration | reference
    reference: str | None = None
    choices: Mapping[str, str] | None = None


@dataclass(frozen=True)
class TableSchema:
    name: str
    display_field: str
    fields: Mapping[str, Field]


def _choice(kind: str = "string", **labels: str) -> Field:
    return Field(kind, choices=labels)


def _ref(table: str) -> Field:
    return Field("reference", reference=table)


STRING, INTEGER, BOOLEAN = Field(), Field("integer"), Field("boolean")
DATETIME, DURATION = Field("datetime"), Field("duration")

_SYSTEM = {
    "sys_id": STRING,
    "sys_created_on": DATETIME,
    "sys_updated_on": DATETIME,
    "sys_mod_count": INTEGER,
}
_PRIORITY = {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low"}
_TASK = {
    **_SYSTEM,
    "number": STRING,
    "short_description": STRING,
    "opened_at": DATETIME,
    "closed_at": DATETIME,
    "assignment_group": _ref("sys_user_group"),
    "business_service": _ref("cmdb_ci_service"),
    "cmdb_ci": _ref("cmdb_ci"),
    "priority": Field("integer", choices={**_PRIORITY, "5": "5 - Planning"}),
    "contact_type": Field(
        choices={
            "email": "Email",
            "phone": "Phone",
            "self-service": "Self-service",
            "chat": "Chat",
            "walk-in": "Walk-in",
            "virtual_agent": "Virtual Agent",
            "ivr": "IVR",
            "direct_opening": "Direct opening",
        }
    ),
}
_HIGH_LOW = {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"}

SCHEMAS: dict[str, TableSchema] = {
    schema.name: schema
    for schema in (
        TableSchema(
            "incident",
            "number",
            {
                **_TASK,
                "state": _choice(
                    "integer",
                    **{
                        "1": "New",
                        "2": "In Progress",
                        "3": "On Hold",
                        "6": "Resolved",
                        "7": "Closed",
                        "8": "Canceled",
                    },
                ),
                "impact": Field("integer", choices=_HIGH_LOW),
                "urgency": Field("integer", choices=_HIGH_LOW),
                "resolved_at": DATETIME,
                "category": STRING,
                "subcategory": STRING,
                "assigned_to": STRING,
                "caused_by": _ref("change_request"),
                "rfc": _ref("change_request"),
                "problem_id": STRING,
                "reopen_count": INTEGER,
                "reassignment_count": INTEGER,
                "made_sla": BOOLEAN,
                "calendar_stc": INTEGER,
                "close_code": STRING,
                "knowledge": BOOLEAN,
            },
        ),
        TableSchema(
            "change_request",
            "number",
            {
                **_TASK,
                "state": _choice(
                    "integer",
                    **{
                        "-5": "New",
                        "-4": "Assess",
                        "-3": "Authorize",
                        "-2": "Scheduled",
                        "-1": "Implement",
                        "0": "Review",
                        "3": "Closed",
                        "4": "Canceled",
                    },
                ),
                "type": _choice(normal="Normal", standard="Standard", emergency="Emergency"),
                "risk": Field(
                    "integer", choices={"1": "Very High", "2": "High", "3": "Moderate", "4": "Low"}
                ),
                "close_code": _choice(
                    successful="Successful",
                    successful_issues="Successful with issues",
                    unsuccessful="Unsuccessful",
                ),
                "start_date": DATETIME,
                "end_date": DATETIME,
                "work_start": DATETIME,
                "work_end": DATETIME,
                "production_system": BOOLEAN,
            },
        ),
        TableSchema(
            "sc_req_item",
            "number",
            {
                **_TASK,
                "state": _choice(
                    "integer",
                    **{
                        "-5": "Pending",
                        "1": "Open",
                        "2": "Work in Progress",
                        "3": "Closed Complete",
                        "4": "Closed Incomplete",
                        "7": "Closed Skipped",
                    },
                ),
                "stage": _choice(
                    request_approved="Request Approved",
                    fulfillment="Fulfillment",
                    delivery="Delivery",
                    completed="Completed",
                ),
                "cat_item": _ref("sc_cat_item"),
            },
        ),
        TableSchema(
            "task_sla",
            "sla",
            {
                **_SYSTEM,
                "task": _ref("task"),
                "sla": _ref("contract_sla"),
                "stage": _choice(
                    in_progress="In progress",
                    paused="Paused",
                    cancelled="Cancelled",
                    completed="Completed",
                    breached="Breached",
                    achieved="Achieved",
                ),
                "has_breached": BOOLEAN,
                "start_time": DATETIME,
                "end_time": DATETIME,
                "planned_end_time": DATETIME,
                "pause_duration": DURATION,
                "business_pause_duration": DURATION,
                "percentage": STRING,
                "business_percentage": STRING,
                "schedule": STRING,
                "timezone": STRING,
            },
        ),
        TableSchema(
            "cmdb_ci_outage",
            "number",
            {
                **_SYSTEM,
                "number": STRING,
                "cmdb_ci": _ref("cmdb_ci"),
                "type": _choice(outage="Outage", degradation="Degradation", planned="Planned"),
                "begin": DATETIME,
                "end": DATETIME,
                "short_description": STRING,
            },
        ),
        # One entry per deleted record: the table it was in and its sys_id (documentkey).
        TableSchema(
            "sys_audit_delete",
            "display_value",
            {**_SYSTEM, "tablename": STRING, "documentkey": STRING, "display_value": STRING},
        ),
        # The audit trail; a restored (undeleted) record gets an entry whose fieldname, oldvalue
        # and newvalue are RECOVERED.
        TableSchema(
            "sys_audit",
            "documentkey",
            {
                **_SYSTEM,
                "tablename": STRING,
                "documentkey": STRING,
                "fieldname": STRING,
                "oldvalue": STRING,
                "newvalue": STRING,
            },
        ),
        TableSchema("sys_user_group", "name", {**_SYSTEM, "name": STRING}),
        TableSchema("cmdb_ci_service", "name", {**_SYSTEM, "name": STRING}),
        TableSchema("cmdb_ci", "name", {**_SYSTEM, "name": STRING}),
        TableSchema("contract_sla", "name", {**_SYSTEM, "name": STRING}),
        TableSchema("sc_cat_item", "name", {**_SYSTEM, "name": STRING}),
    )
}

# A reference to a base table may point at a record of one of its extensions.
EXTENSIONS = {
    "cmdb_ci": ("cmdb_ci", "cmdb_ci_service"),
    "task": ("incident", "change_request", "sc_req_item"),
}


class Store(Protocol):
    schema: TableSchema

    def get(self, sys_id: str) -> Record | None: ...

    def scan(self, updated_from: str | None = None) -> Iterator[Record]: ...

    def __len__(self) -> int: ...


def updated_bound(updated_from: str, fallback: datetime) -> datetime:
    """The UTC time a scan from `updated_from` starts at; an unreadable value scans from
    `fallback`, as an instance ignores a query part it cannot parse."""
    try:
        return datetime.strptime(updated_from[:19], TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return fallback


def order_key(record: Mapping[str, str]) -> tuple[str, str]:
    return record.get("sys_updated_on", ""), record["sys_id"]


@dataclass
class MemoryTable:
    """Records in memory, kept sorted by (sys_updated_on, sys_id)."""

    schema: TableSchema
    _by_id: dict[str, Record] = field(default_factory=dict)
    _keys: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, name: str, records: Iterable[Record] = ()) -> MemoryTable:
        table = cls(SCHEMAS[name])
        table._by_id = {r["sys_id"]: r for r in records}
        table._keys = sorted(order_key(r) for r in table._by_id.values())
        return table

    def get(self, sys_id: str) -> Record | None:
        return self._by_id.get(sys_id)

    def put(self, record: Record) -> None:
        old = self._by_id.get(record["sys_id"])
        if old is not None:
            del self._keys[bisect.bisect_left(self._keys, order_key(old))]
        self._by_id[record["sys_id"]] = record
        bisect.insort(self._keys, order_key(record))

    def remove(self, sys_id: str) -> Record | None:
        """Delete a record; returns it, or None when there was none."""
        old = self._by_id.pop(sys_id, None)
        if old is not None:
            del self._keys[bisect.bisect_left(self._keys, order_key(old))]
        return old

    def scan(self, updated_from: str | None = None) -> Iterator[Record]:
        start = bisect.bisect_left(self._keys, (updated_from, "")) if updated_from else 0
        for index in range(start, len(self._keys)):
            yield self._by_id[self._keys[index][1]]

    def records(self) -> list[Record]:
        return [self._by_id[key[1]] for key in self._keys]

    def __len__(self) -> int:
        return len(self._keys)


@dataclass
class GeneratedTable:
    """A read-only table whose record i is computed on demand, for million-record benchmarks.

    Record i was last updated at `start + i // per_second` seconds and has sys_id `i` in hex,
    so several records share each second and the natural order is the index order.
    """

    schema: TableSchema
    count: int
    make: Callable[[int], Record]
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    per_second: int = 3

    def updated_on(self, index: int) -> str:
        return (self.start + timedelta(seconds=index // self.per_second)).strftime(TIME_FORMAT)

    def get(self, sys_id: str) -> Record | None:
        try:
            index = int(sys_id, 16)
        except ValueError:
            return None
        return self.make(index) if 0 <= index < self.count else None

    def scan(self, updated_from: str | None = None) -> Iterator[Record]:
        first = 0
        if updated_from:
            bound = updated_bound(updated_from, self.start)
            first = max(0, int((bound - self.start).total_seconds()) * self.per_second)
        for index in range(first, self.count):
            yield self.make(index)

    def __len__(self) -> int:
        return self.count
