"""A ServiceNow instance's Table API over real HTTP, with the awkward parts kept.

Reproduces what ../shared/reference/itsm-apis.md records: encoded queries with ORDERBY, offset
paging with X-Total-Count and a Link header whose `prev` at offset 0 carries offset=-1 (following
it gives 400 "Negative offset"), string-typed values, reference objects, the three display-value
modes, 401 bodies, X-RateLimit-* headers, 429 with Retry-After, and (optionally) records that
change while a client pages, which is what makes plain offset paging lose rows. Deleting a record
(`delete_record`) writes its entry to `sys_audit_delete`, as an instance does; restoring it
(`restore_record`) writes a RECOVERED entry to `sys_audit`.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from connectors.emulators import servicenow_query
from connectors.emulators.server import Call, EmulatorServer, Faults, Reply, basic_credentials
from connectors.emulators.server import serve as serve_api
from connectors.emulators.servicenow_tables import (
    EXTENSIONS,
    TIME_FORMAT,
    MemoryTable,
    Record,
    Store,
    TableSchema,
)

_PATH = re.compile(r"^/api/now(?:/v2)?/table/([A-Za-z0-9_]+)(?:/([A-Za-z0-9]+))?/?$")
_NATURAL_ORDERS = ((), (("sys_updated_on", False),), (("sys_updated_on", False), ("sys_id", False)))
DEFAULT_LIMIT = 10000
DELETION_LOG = "sys_audit_delete"
AUDIT = "sys_audit"


def failure(status: int, message: str, detail: str = "") -> Reply:
    return Reply(status, {"error": {"message": message, "detail": detail}, "status": "failure"})


@dataclass(frozen=True)
class Credentials:
    """What the instance accepts; the password and token stay out of repr, like the client's."""

    username: str
    password: str = field(repr=False)
    token: str | None = field(default=None, repr=False)

    def accepts(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return self.token is not None and value == self.token
        if scheme.lower() == "basic":
            return basic_credentials(header) == (self.username, self.password)
        return False


@dataclass
class Churn:
    """After every `every_pages`-th full list page, touch `records` records of that table.

    Touched records get a sys_updated_on one second past the newest in the table and a higher
    sys_mod_count, exactly what a busy instance does to a client that pages by offset. Stops
    after `max_updates` touches so a client always reaches the end.
    """

    every_pages: int = 2
    records: int = 3
    max_updates: int = 60
    pages_served: int = 0
    updates: int = 0


@dataclass
class RateLimit:
    """An hourly per-instance rate-limit rule; over it, 429 with Retry-After."""

    limit: int = 100000
    rule: str = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    window_start: float = 0.0
    used: int = 0


class ServiceNowApi:
    """The Table API over a set of stores, one per table name."""

    def __init__(
        self,
        tables: Mapping[str, Store],
        credentials: Credentials,
        churn: Churn | None = None,
        rate_limit: RateLimit | None = None,
        time_zone: str = "America/Los_Angeles",
        clock: Callable[[], float] = time.time,
        unreadable: Iterable[str] = (),
    ) -> None:
        """`unreadable` names tables the integration user has no read ACL on."""
        self.tables = dict(tables)
        self.unreadable = frozenset(unreadable)
        self.tables.setdefault(DELETION_LOG, MemoryTable.of(DELETION_LOG))
        self.tables.setdefault(AUDIT, MemoryTable.of(AUDIT))
        self.credentials = credentials
        self.churn = churn
        self.rate_limit = rate_limit
        self.zone = ZoneInfo(time_zone)
        self.clock = clock
        self.lock = threading.Lock()

    def handle(self, call: Call) -> Reply:
        with self.lock:
            limited = self._rate_limited()
            if limited is not None:
                return limited
            reply = self._answer(call)
            reply.headers.update(self._rate_headers())
            return reply

    def delete_record(
        self, table: str, sys_id: str, *, cascade: Iterable[str] = ()
    ) -> list[Record]:
        """Delete a record as a user would, leaving its sys_audit_delete entry; returns the entries.

        `cascade` names tables whose records referencing it through their `task` field go with
        it (e.g. "task_sla"), each with its own entry, as on an instance whose reference cascade
        rule for that field is Delete. Without it they stay, with a dangling reference whose
        display value empties without any update to the record.
        """
        with self.lock:
            entries = [self._delete(table, sys_id)]
            for dependent in cascade:
                store = self.tables[dependent]
                for record in [r for r in store.scan() if r.get("task") == sys_id]:
                    entries.append(self._delete(dependent, record["sys_id"]))
            return entries

    def _delete(self, table: str, sys_id: str) -> Record:
        store = self.tables[table]
        removed = store.remove(sys_id) if isinstance(store, MemoryTable) else None
        if removed is None:
            raise KeyError(f"{table} has no record {sys_id} to delete")
        return self._log(
            DELETION_LOG,
            table,
            sys_id,
            display_value=removed.get(store.schema.display_field, sys_id),
        )

    def _log(self, log: str, table: str, sys_id: str, **fields: str) -> Record:
        """An entry about one record of `table` in the deletion log or the audit trail, now."""
        now = datetime.fromtimestamp(self.clock(), UTC).strftime(TIME_FORMAT)
        entry = {
            "sys_id": uuid.uuid4().hex,
            "sys_created_on": now,
            "sys_updated_on": now,
            "sys_mod_count": "0",
            "tablename": table,
            "documentkey": sys_id,
            **fields,
        }
        self.tables[log].put(entry)
        return entry

    def restore_record(self, table: str, record: Record) -> Record:
        """Restore a deleted record from the deleted records list: it comes back as it was,
        sys_updated_on included, and the audit trail gets a RECOVERED entry; returns the entry."""
        with self.lock:
            self.tables[table].put(dict(record))
            return self._log(
                AUDIT,
                table,
                record["sys_id"],
                fieldname="RECOVERED",
                oldvalue="RECOVERED",
                newvalue="RECOVERED",
            )

    def throttled(self, retry_after: float) -> Reply:
        reply = failure(429, "Too Many Requests", "Rate limit exceeded for this instance")
        reply.headers.update({"Retry-After": f"{retry_after:g}", **self._rate_headers()})
        return reply

    def _answer(self, call: Call) -> Reply:
        if not self.credentials.accepts(call.headers.get("authorization")):
            return failure(401, "User Not Authenticated", "Required to provide Auth information")
        match = _PATH.match(call.path)
        if not match:
            return failure(400, "Requested URI does not represent any resource", call.path)
        if call.method != "GET":
            return failure(405, "Method not allowed", "This emulator serves GET only")
        table_name, sys_id = match[1], match[2]
        if table_name in self.unreadable:
            return failure(
                403, "User Not Authorized", "ACL Exception Read Failed due to security constraints"
            )
        store = self.tables.get(table_name)
        if store is None:
            return failure(400, "Invalid table " + table_name)
        view = _View.from_call(call, self, store.schema)
        if sys_id:
            record = store.get(sys_id)
            if record is None:
                return failure(
                    404, "No Record found", "Record doesn't exist or ACL restricts the retrieval"
                )
            return Reply(200, {"result": view.render(record)})
        return self._list(call, store, view)

    def _list(self, call: Call, store: Store, view: _View) -> Reply:
        try:
            offset = int(call.arg("sysparm_offset", "0") or 0)
        except ValueError:
            offset = 0
        if offset < 0:
            return failure(400, "Negative offset", "sysparm_offset must not be negative")
        try:
            limit = max(1, int(call.arg("sysparm_limit") or DEFAULT_LIMIT))
        except ValueError:
            limit = DEFAULT_LIMIT
        schema = store.schema
        query = servicenow_query.parse(
            call.arg("sysparm_query"),
            known=schema.fields.__contains__,
            numeric=lambda name: schema.fields[name].kind == "integer",
        )
        counting = (call.arg("sysparm_no_count") or "false").lower() != "true"
        page, total = _select(store, query, offset, limit, counting)
        reply = Reply(200, {"result": [view.render(r) for r in page]})
        if counting:
            reply.headers["X-Total-Count"] = str(total)
        if (call.arg("sysparm_suppress_pagination_header") or "").lower() != "true":
            reply.headers["Link"] = _links(call, offset, limit, total, len(page))
        if len(page) == limit:  # the client will be back for more: change data under it
            self._churn(store)
        return reply

    def _churn(self, store: Store) -> None:
        churn = self.churn
        if churn is None or not isinstance(store, MemoryTable) or not len(store):
            return
        churn.pages_served += 1
        if churn.pages_served % churn.every_pages or churn.updates >= churn.max_updates:
            return
        records = store.records()
        newest = max(records[-1]["sys_updated_on"], "1970-01-01 00:00:00")
        stamp = datetime.strptime(newest, TIME_FORMAT) + timedelta(seconds=1)
        # Spread the touches over the table: some already read, some not yet reached.
        step = max(1, len(records) // churn.records)
        for record in records[::step][: churn.records]:
            touched = {
                **record,
                "sys_updated_on": stamp.strftime(TIME_FORMAT),
                "sys_mod_count": str(int(record.get("sys_mod_count") or 0) + 1),
            }
            store.put(touched)
            churn.updates += 1

    def _rate_limited(self) -> Reply | None:
        rule = self.rate_limit
        if rule is None:
            return None
        now = self.clock()
        if now - rule.window_start >= 3600:
            rule.window_start, rule.used = now - now % 3600, 0
        rule.used += 1
        if rule.used <= rule.limit:
            return None
        return self.throttled(max(1.0, rule.window_start + 3600 - now))

    def _rate_headers(self) -> dict[str, str]:
        rule = self.rate_limit
        if rule is None:
            return {}
        return {
            "X-RateLimit-Limit": str(rule.limit),
            "X-RateLimit-Reset": str(int(rule.window_start + 3600)),
            "X-RateLimit-Rule": rule.rule,
        }

    def display_of(self, table: str, sys_id: str) -> str:
        """The display value of a referenced record ('' when it does not exist)."""
        for name in EXTENSIONS.get(table, (table,)):
            store = self.tables.get(name)
            record = store.get(sys_id) if store is not None else None
            if record is not None:
                return record.get(store.schema.display_field, "")
        return ""


def _select(
    store: Store, query: servicenow_query.Query, offset: int, limit: int, counting: bool
) -> tuple[list[Record], int]:
    """The page of matching records and the total match count (0 when not counted)."""
    if query.order in _NATURAL_ORDERS:
        matches = (r for r in store.scan(query.lower_bound("sys_updated_on")) if query.matches(r))
        if not counting:
            return list(islice(matches, offset, offset + limit)), 0
        everything = list(matches)
    else:
        everything = [r for r in store.scan() if query.matches(r)]
        for name, descending in reversed(query.order):
            kind = store.schema.fields[name].kind
            everything.sort(key=_sort_key(name, kind), reverse=descending)
    return everything[offset : offset + limit], len(everything)


def _sort_key(name: str, kind: str) -> Callable[[Record], tuple]:
    if kind == "integer":

        def numeric(record: Record) -> tuple:
            value = record.get(name, "")
            try:
                return (0, float(value), "")
            except ValueError:
                return (1, 0.0, value)

        return numeric
    return lambda record: (0, 0.0, record.get(name, ""))


def _links(call: Call, offset: int, limit: int, total: int, returned: int) -> str:
    params = {key: values[-1] for key, values in call.query.items()}

    def link(at: int, rel: str) -> str:
        query = urlencode({**params, "sysparm_limit": limit, "sysparm_offset": at})
        return f'<{call.base_url}{call.path}?{query}>;rel="{rel}"'

    counted = (call.arg("sysparm_no_count") or "").lower() != "true"
    links = [link(0, "first"), link(max(offset - limit, 0) if offset > 0 else -1, "prev")]
    has_next = offset + limit < total if counted else returned == limit
    if has_next:
        links.append(link(offset + limit, "next"))
    if counted and total:
        links.append(link((total - 1) // limit * limit, "last"))
    return ",".join(links)


@dataclass
class _View:
    """How one request wants records shown: fields, display values, reference links."""

    api: ServiceNowApi
    schema: TableSchema
    fields: tuple[str, ...]
    display: str  # false | true | all
    links: bool
    base_url: str

    @classmethod
    def from_call(cls, call: Call, api: ServiceNowApi, schema: TableSchema) -> _View:
        wanted = [f.strip() for f in (call.arg("sysparm_fields") or "").split(",") if f.strip()]
        fields = tuple(f for f in wanted if f in schema.fields) if wanted else tuple(schema.fields)
        display = (call.arg("sysparm_display_value") or "false").lower()
        if display not in ("true", "all"):
            display = "false"
        links = (call.arg("sysparm_exclude_reference_link") or "false").lower() != "true"
        return cls(api, schema, fields, display, links, call.base_url)

    def render(self, record: Record) -> dict[str, object]:
        return {name: self._value(name, record.get(name, "")) for name in self.fields}

    def _value(self, name: str, value: str) -> object:
        spec = self.schema.fields[name]
        if spec.kind == "reference":
            if not value:
                return "" if self.display != "all" else {"display_value": "", "value": ""}
            shown = self.api.display_of(spec.reference or "", value)
            if self.display == "false":
                body: dict[str, str] = {"value": value}
            elif self.display == "true":
                body = {"display_value": shown}
            else:
                body = {"display_value": shown, "value": value}
            if not self.links:
                return body if self.display == "all" else next(iter(body.values()))
            return {**body, "link": f"{self.base_url}/api/now/table/{spec.reference}/{value}"}
        if self.display == "false":
            return value
        shown = self._display(spec.kind, spec.choices, value)
        return shown if self.display == "true" else {"display_value": shown, "value": value}

    def _display(self, kind: str, choices: Mapping[str, str] | None, value: str) -> str:
        if choices and value in choices:
            return choices[value]
        if kind == "datetime" and value:
            try:
                moment = datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)
            except ValueError:
                return value
            return moment.astimezone(self.api.zone).strftime(TIME_FORMAT)
        return value


def serve(
    tables: Mapping[str, Store],
    credentials: Credentials,
    faults: Faults | None = None,
    churn: Churn | None = None,
    rate_limit: RateLimit | None = None,
    unreadable: Iterable[str] = (),
) -> EmulatorServer:
    """Start an emulated instance on loopback; the caller stops it."""
    api = ServiceNowApi(
        tables, credentials, churn=churn, rate_limit=rate_limit, unreadable=unreadable
    )
    return serve_api(api, faults)


DEMO_CREDENTIALS = Credentials("scorecard.demo", "demo-only-password")


def start_demo(as_of: datetime, workdir: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """Serve the demo organisation's ServiceNow history up to `as_of` (workdir is not needed)."""
    from connectors.emulators.servicenow_demo import demo_tables

    server = serve(demo_tables(as_of), DEMO_CREDENTIALS, rate_limit=RateLimit())
    env = {
        "SERVICENOW_INSTANCE_URL": server.url,
        "SERVICENOW_USERNAME": DEMO_CREDENTIALS.username,
        "SERVICENOW_PASSWORD": DEMO_CREDENTIALS.password,
    }
    return env, server.stop
