"""ServiceNow Table API: incidents, changes, requests, SLA clocks and outages, read incrementally.

Paging is by key, not by offset: each page asks for records strictly after the last one stored,
in (sys_updated_on, sys_id) order. A record updated while we page moves to the end of that order
and is read again later in the same run, so nothing is skipped the way offset paging skips rows
when earlier ones move. A run starts `overlap` before the stored cursor to catch records whose
update committed late with an earlier timestamp; landing de-duplicates them by sys_id.

Names come with the records (`sysparm_display_value=all`): the assignment group, service and
configuration item are references into tables (cmdb_ci can hold millions of rows) that we would
otherwise have to copy whole; every field then arrives as {"display_value", "value"} and staging
reads the raw value for codes and dates and the display value for names.

Deleted records never show up in a table read, so the instance's deletion log, `sys_audit_delete`
(one entry per deleted record: tablename, documentkey = its sys_id, sys_created_on = when), is
read as one more stream with its own cursor; landing removes each deleted record from raw, and
therefore from core. The integration user needs read access to it, or set
SERVICENOW_READ_DELETIONS=false to go without. A record restored from the deleted records comes
back with its old sys_updated_on, which no incremental read asks for; the instance audits the
restore (a `sys_audit` entry RECOVERED), so each table read asks the audit for the records of its
table restored since its cursor and reads them again by sys_id, to land as restored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import requests

from connectors.base import WEEKLY, ListedPage, Page, Record, Stream
from connectors.catch_up import server_time
from connectors.http import (
    HttpClient,
    PermanentSourceError,
    Request,
    RequestRefused,
    SourceError,
    header_delay,
    listed,
    read_ahead,
    require_safe_url,
)
from connectors.removals import Deletion, DeletionLog, RestoredPage

log = logging.getLogger(__name__)

SOURCE = "servicenow"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DEFAULT_PAGE_SIZE = 1000
DEFAULT_OVERLAP_MINUTES = 10.0
_ORDER = "ORDERBYsys_updated_on^ORDERBYsys_id"
_TASK_FIELDS = (
    "sys_id",
    "number",
    "sys_updated_on",
    "state",
    "opened_at",
    "closed_at",
    "assignment_group",
    "business_service",
    "cmdb_ci",
    "contact_type",
)

# Only the fields staging reads (sysparm_fields): smaller pages, faster reads.
TABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "incident": _TASK_FIELDS
    + (
        "priority",
        "resolved_at",
        "category",
        "caused_by",
        "rfc",
        "reopen_count",
        "reassignment_count",
        "made_sla",
        "close_code",
    ),
    "change_request": _TASK_FIELDS
    + (
        "type",
        "risk",
        "close_code",
        "start_date",
        "end_date",
        "work_start",
        "work_end",
        "production_system",
    ),
    "sc_req_item": _TASK_FIELDS + ("stage", "cat_item"),
    "task_sla": (
        "sys_id",
        "sys_updated_on",
        "task",
        "sla",
        "stage",
        "has_breached",
        "start_time",
        "end_time",
        "planned_end_time",
        "pause_duration",
    ),
    "cmdb_ci_outage": ("sys_id", "number", "sys_updated_on", "cmdb_ci", "type", "begin", "end"),
}
DELETION_LOG = "sys_audit_delete"
DELETION_FIELDS = ("sys_id", "sys_updated_on", "sys_created_on", "tablename", "documentkey")
AUDIT = "sys_audit"
AUDIT_FIELDS = ("sys_id", "sys_created_on", "tablename", "documentkey", "fieldname")


def servicenow_retry_after(response: requests.Response) -> float | None:
    """429 waits for Retry-After (or the rate-limit reset); 5xx only for an explicit Retry-After.

    X-RateLimit-Reset rides on every answer of a rate-limited instance; on a 503 it says when the
    hourly quota refills, not when the server recovers, so it must not stall a plain retry.
    """
    status = response.status_code
    if status == 429:
        return header_delay(response) or 0.0
    if status in (500, 502, 503, 504):
        return header_delay(response) if "Retry-After" in response.headers else 0.0
    return None


@dataclass(frozen=True, order=True)
class Position:
    """Where a stream has been read up to: the last stored record in paging order.

    A table's pages land before the records restored since the last read are asked for; until
    that read ends, `restores_since` keeps where it starts, so a run that fails or dies in
    between does not leave the restores behind the cursor, where no later read looks.
    """

    updated_on: str
    sys_id: str
    restores_since: str | None = field(default=None, compare=False)

    @classmethod
    def of(cls, record: Record) -> Position:
        return cls(_value(record.get("sys_updated_on")), _value(record.get("sys_id")))

    @classmethod
    def decode(cls, cursor: str, table: str) -> Position:
        try:
            data = json.loads(cursor)
            restores = data.get("restores_since")
            position = cls(
                str(data["sys_updated_on"]),
                str(data["sys_id"]),
                None if restores is None else str(restores),
            )
            datetime.strptime(position.updated_on, TIME_FORMAT)
            if position.restores_since is not None:
                datetime.strptime(position.restores_since, TIME_FORMAT)
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(
                f"{SOURCE}: stored cursor of table {table} is not readable ({cursor!r}); "
                "run a full refresh of this source"
            ) from exc
        return position

    def encode(self) -> str:
        position = {"sys_updated_on": self.updated_on, "sys_id": self.sys_id}
        if self.restores_since is not None:
            position["restores_since"] = self.restores_since
        return json.dumps(position)

    def after_query(self, where: str = "") -> str:
        """Records strictly after this position in (sys_updated_on, sys_id) order, that also
        match `where` (repeated in both ^NQ alternatives, since each is a query of its own)."""
        t, scope = self.updated_on, f"{where}^" if where else ""
        return (
            f"{scope}sys_updated_on={t}^sys_id>{self.sys_id}^NQ{scope}sys_updated_on>{t}^{_ORDER}"
        )


def _value(field_value: Any) -> str:
    if isinstance(field_value, dict):
        field_value = field_value.get("value", "")
    return "" if field_value is None else str(field_value)


@dataclass
class ServiceNowSource:
    """The five ServiceNow tables the scorecard needs, as incremental streams."""

    instance_url: str
    client: HttpClient
    page_size: int = DEFAULT_PAGE_SIZE
    overlap: timedelta = timedelta(minutes=DEFAULT_OVERLAP_MINUTES)
    tables: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: TABLE_FIELDS)
    read_deletions: bool = True
    name: str = SOURCE

    def streams(self) -> list[Stream]:
        """The tables, then the deletion log: read last, it also catches deletions made while
        the tables were being read."""
        # Without the deletion log, a weekly whole read removes the records deleted since.
        every = None if self.read_deletions else WEEKLY
        streams = [
            Stream(table, "sys_id", "sys_updated_on", refresh_every=every) for table in self.tables
        ]
        if self.read_deletions:
            streams.append(
                DeletionLog(DELETION_LOG, "sys_id", "sys_updated_on", deletion_of=_deletion)
            )
        return streams

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        """Pages in (sys_updated_on, sys_id) order; each page's cursor is its last record.

        The next page is fetched while the caller lands this one (read_ahead).
        """
        yield from read_ahead(self._pages(stream, cursor), f"{SOURCE}.{stream.name}")

    def _pages(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        table = stream.name
        where = f"tablenameIN{','.join(self.tables)}" if table == DELETION_LOG else ""
        scope = f"{where}^" if where else ""
        query = scope + _ORDER
        start: Position | None = None
        restores: datetime | None = None
        if cursor:
            start = Position.decode(cursor, table)
            since = datetime.strptime(start.updated_on, TIME_FORMAT) - self.overlap
            query = f"{scope}sys_updated_on>={since.strftime(TIME_FORMAT)}^{_ORDER}"
            if self.read_deletions and table != DELETION_LOG:
                restores = since
                if start.restores_since is not None:
                    restores = min(since, datetime.strptime(start.restores_since, TIME_FORMAT))
        pager = _Keyset(self, table, where)
        first = pager.request(query, None)
        pending = restores.strftime(TIME_FORMAT) if restores is not None else None
        try:
            yield from self._answers(pager, first, pending)
            if restores is not None and start is not None:
                yield from self._restored(table, restores)
                if pager.position is not None or start.restores_since is not None:
                    # The restores are read: the cursor no longer needs to hold their start.
                    done = replace(pager.position or start, restores_since=None)
                    yield Page([], done.encode())
        except RequestRefused as exc:
            if table != DELETION_LOG or exc.status != 403:
                raise
            raise PermanentSourceError(
                f"{SOURCE}: the integration user may not read the deletion log {DELETION_LOG} "
                "(HTTP 403), so records deleted in the instance cannot be removed here. Grant "
                f"it read access to {DELETION_LOG}, or set SERVICENOW_READ_DELETIONS=false to "
                "go without (a full refresh then removes deleted records). The tables read "
                "before it are loaded."
            ) from exc

    def _answers(
        self, pager: _Keyset, first: Request, restores_since: str | None = None
    ) -> Iterator[Page]:
        """The table's pages; each cursor keeps `restores_since`, the start of the restores
        still to read after them."""
        for request, body, text, response in self.client.paginate_answers(first, pager.next_page):
            records = pager.accept(request, body)
            if not records:
                continue
            position = Position.of(records[-1])
            # A record stamped after the instance's own clock (a bad import, a script run with
            # autoSysFields(false)) must not carry the cursor into the future: every record
            # before it in paging order, so every one updated up to now, has been read.
            now = server_time(response)
            if now is not None and position.updated_on > now.strftime(TIME_FORMAT):
                log.warning(
                    "%s: %s: record %s (sys_id %s) has sys_updated_on %s, after the instance's "
                    "clock; the cursor stays at %s",
                    SOURCE,
                    request.context,
                    _value(records[-1].get("number")) or "?",
                    position.sys_id,
                    position.updated_on,
                    now.strftime(TIME_FORMAT),
                )
                position = Position(now.strftime(TIME_FORMAT), "")
            position = replace(position, restores_since=restores_since)
            pager.position = position
            cursor = position.encode()
            if text is None:
                yield Page(records, cursor)
            else:
                # The records not read before are the last ones of the answer's list.
                skipped = len(body["result"]) - len(records)
                yield ListedPage(records, cursor, answer=text, path="$.result", first=skipped)

    def _restored(self, table: str, since: datetime) -> Iterator[Page]:
        """The records of `table` restored from the deleted records since `since`, read again
        by sys_id: a restore keeps the old sys_updated_on, so the table read does not see them."""
        restored_at: dict[str, str] = {}
        query = (
            f"fieldname=RECOVERED^tablename={table}^sys_created_on>="
            f"{since.strftime(TIME_FORMAT)}^ORDERBYsys_created_on^ORDERBYsys_id"
        )
        offset = 0
        while True:
            request = self.list_request(
                AUDIT, query, f"restores of table {table} at offset {offset}", AUDIT_FIELDS
            )
            request = request.with_params(sysparm_offset=str(offset))
            try:
                _, body = self.client.fetch_json(request)
            except RequestRefused as exc:
                if exc.status != 403:
                    raise
                log.warning(
                    "%s: the integration user may not read %s (HTTP 403), so records of table "
                    "%s restored after their deletion come back only at a full refresh",
                    SOURCE,
                    AUDIT,
                    table,
                )
                return
            entries = listed(SOURCE, body, "result", request)
            for entry in entries:
                key, at = _value(entry.get("documentkey")), _value(entry.get("sys_created_on"))
                if key and at > restored_at.get(key, ""):
                    restored_at[key] = at
            offset += len(entries)
            if len(entries) < self.page_size:
                break
        keys = sorted(restored_at)
        for at in range(0, len(keys), self.page_size):
            chunk = keys[at : at + self.page_size]
            request = self.list_request(
                table, f"sys_idIN{','.join(chunk)}", f"restored records of table {table}"
            )
            _, body = self.client.fetch_json(request)
            records = listed(SOURCE, body, "result", request)
            if records:
                log.info("%s: %d restored records of table %s", SOURCE, len(records), table)
                yield RestoredPage(records, None, restored_at=restored_at)

    def list_request(
        self, table: str, query: str, context: str, fields: tuple[str, ...] | None = None
    ) -> Request:
        return Request(
            "GET",
            f"{self.instance_url}/api/now/table/{table}",
            params={
                "sysparm_query": query,
                "sysparm_fields": ",".join(fields or self.tables.get(table, DELETION_FIELDS)),
                "sysparm_limit": str(self.page_size),
                "sysparm_display_value": "all",
                "sysparm_exclude_reference_link": "true",
                "sysparm_no_count": "true",
            },
            context=context,
        )


@dataclass
class _Keyset:
    """Builds each page's request from the last record of the page before it."""

    source: ServiceNowSource
    table: str
    where: str = ""
    read: int = 0
    last: Position | None = None
    records: list[Record] = field(default_factory=list)
    # The cursor of the last page handed out (None before the first).
    position: Position | None = None

    def request(self, query: str, after: Position | None) -> Request:
        where = f" after sys_updated_on {after.updated_on}, sys_id {after.sys_id}" if after else ""
        context = f"table {self.table} at offset {self.read}{where}"
        return self.source.list_request(self.table, query, context)

    def accept(self, request: Request, body: Any) -> list[Record]:
        """The page's records not read before, checked to be in paging order: the end of the
        answer's list, since a repeat after a new record is out of order.

        An instance that ignores the sys_id tie-break (an invalid query part is silently
        dropped) sends again the records sharing the last timestamp; those are skipped. A short
        page of repeats is the end; a full one means paging cannot progress: an error, not a loop.
        """
        records = listed(SOURCE, body, "result", request)
        before, fresh = self.last, []
        for record in records:
            position = Position.of(record)
            # Repeats lead the answer; one after a new record is out of order (refused below),
            # and skipping it would misalign the records cut from the answer (ListedPage.first).
            if before is not None and position.sys_id and position <= before and not fresh:
                continue
            if not position.sys_id or (self.last is not None and position <= self.last):
                raise SourceError(
                    f"{SOURCE}: {request.context}: record {_value(record.get('number')) or '?'} "
                    f"(sys_id {position.sys_id or 'missing'}) is out of (sys_updated_on, sys_id) "
                    "order; the instance did not honour ORDERBY, refusing to page on"
                )
            fresh.append(record)
            self.last = position
        self.records = fresh
        if len(records) >= self.source.page_size and not fresh:
            raise SourceError(
                f"{SOURCE}: {request.context}: the page repeats records already read; more "
                f"than {len(records)} records share one sys_updated_on and the instance ignores "
                "the sys_id tie-break: raise SERVICENOW_PAGE_SIZE"
            )
        self.read += len(fresh)
        return fresh

    def next_page(self, request: Request, response: requests.Response, body: Any) -> Request | None:
        """A page with nothing new ends the stream; a short page may just be a server cap."""
        if not self.records or self.last is None:
            return None
        return self.request(self.last.after_query(self.where), self.last)


def _deletion(entry: Record) -> Deletion:
    """A sys_audit_delete entry: which record of which table was deleted, and when."""
    return Deletion(
        _value(entry.get("tablename")),
        _value(entry.get("documentkey")),
        _value(entry.get("sys_created_on")),
    )


def from_env(env: Mapping[str, str]) -> ServiceNowSource:
    """Configure from SERVICENOW_* variables; names the variable that is missing or wrong."""
    url = env.get("SERVICENOW_INSTANCE_URL", "").strip()
    if not url:
        raise SourceError(f"{SOURCE}: SERVICENOW_INSTANCE_URL is not set")
    url = require_safe_url(url, SOURCE)
    token = env.get("SERVICENOW_TOKEN", "").strip()
    user = env.get("SERVICENOW_USERNAME", "").strip()
    password = env.get("SERVICENOW_PASSWORD", "")
    if token:
        client = HttpClient(
            SOURCE,
            headers={"Authorization": f"Bearer {token}"},
            retry_after=servicenow_retry_after,
        )
    elif user and password:
        client = HttpClient(SOURCE, auth=(user, password), retry_after=servicenow_retry_after)
    else:
        missing = "SERVICENOW_USERNAME" if not user else "SERVICENOW_PASSWORD"
        raise SourceError(f"{SOURCE}: {missing} is not set (or set SERVICENOW_TOKEN for OAuth)")
    return ServiceNowSource(
        url,
        client,
        page_size=_number(env, "SERVICENOW_PAGE_SIZE", DEFAULT_PAGE_SIZE, 1, 10000),
        overlap=timedelta(
            minutes=_number(env, "SERVICENOW_OVERLAP_MINUTES", DEFAULT_OVERLAP_MINUTES, 0, 10080)
        ),
        read_deletions=_switch(env, "SERVICENOW_READ_DELETIONS", default=True),
    )


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    if text not in ("true", "false", "1", "0", "yes", "no"):
        raise SourceError(f"{SOURCE}: {name}={text!r} must be true or false")
    return text in ("true", "1", "yes")


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> Any:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = type(default)(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise SourceError(f"{SOURCE}: {name}={text!r} must be a number from {low:g} to {high:g}")
    return value
