"""Jira Service Management (Cloud): incidents, service requests, changes and their SLA cycles.

Issues come from the enhanced search, `/rest/api/3/search/jql`, paged by `nextPageToken` with an
explicit field list (it returns only ids otherwise). The query is JIRA_JQL, the issue types of
one kind, and an `updated >=` window. JQL reads that date in the querying account's time zone at
minute precision, so the window is written in the zone `/rest/api/3/myself` reports, floored to
the minute and moved back by an overlap; landing de-duplicates the records read twice.

A token pages through live results: when an issue is updated mid-read the issues behind it
shift. Newest-first order keeps every shift on the side already read (a repeat, never a gap), and
the updated issue itself is read again by the next pass (connectors/catch_up.py). An issue that
leaves the search mid-read (deleted, retyped, moved out of JIRA_JQL) shifts the rest forward, past
one never served: the window is read again until nothing new turns up.

Which issue types are incidents, service requests and changes is configuration (JIRA_ISSUE_TYPES,
e.g. `incident=Incident,Major Incident;request=Service Request;change=Change`; a kind left empty
is not read). Each kind is a stream of its own. SLA cycles come from the Service Management API,
`/rest/servicedeskapi/request/{key}/sla`, read for every issue of those types that changed; an
issue's SLAs are stored as one record, replaced whole when the issue changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from connectors.base import WEEKLY, Page, Record, Stream
from connectors.catch_up import (
    REPEAT_LIMIT,
    FirstAnswer,
    TimedPage,
    decode_cursor,
    read_until_settled,
)
from connectors.http import (
    HttpClient,
    Request,
    RequestRefused,
    SourceError,
    listed,
    require_safe_url,
)

log = logging.getLogger(__name__)

SOURCE = "jira"
ISSUE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"
JQL_TIME_FORMAT = "%Y-%m-%d %H:%M"
PAGE_SIZE = 100
SLA_PAGE_SIZE = 50
OVERLAP = timedelta(minutes=10)
DEFAULT_ISSUE_TYPES: dict[str, tuple[str, ...]] = {
    "incident": ("Incident",),
    "request": ("Service Request",),
    "change": ("Change",),
}
# Stream (and raw table) of each kind of issue.
KIND_STREAMS = {"incident": "incidents", "request": "requests", "change": "changes"}
SLA_STREAM = "sla"
# A workflow can close an issue without setting a resolution, leaving resolutiondate empty: the
# time it entered its (done) status category then tells when it ended.
ISSUE_FIELDS = (
    "created",
    "updated",
    "resolutiondate",
    "statuscategorychangedate",
    "priority",
    "status",
    "issuetype",
    "resolution",
    "components",
)


def issue_updated(record: Record) -> datetime | None:
    """When the issue was last updated, in UTC (None when missing or unreadable)."""
    fields = record.get("fields") or {}
    text = fields.get("updated") if isinstance(fields, dict) else None
    text = text or record.get("updated")
    try:
        return datetime.strptime(str(text), ISSUE_TIME_FORMAT).astimezone(UTC)
    except (ValueError, OverflowError):  # overflow: beyond the year 1 or 9999 once in UTC
        return None


def issue_version(record: Record) -> str:
    """The update time as a UTC string that sorts in time order, whatever the account's zone."""
    moment = issue_updated(record)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") if moment else ""


def jql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class JiraSource:
    """Issues of the configured types and their SLA cycles, as incremental streams."""

    base_url: str
    client: HttpClient
    jql: str
    issue_types: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_ISSUE_TYPES)
    )
    page_size: int = PAGE_SIZE
    overlap: timedelta = OVERLAP
    name: str = SOURCE
    _zone: ZoneInfo | None = field(default=None, repr=False)
    _without_request: int = field(default=0, repr=False)

    def streams(self) -> list[Stream]:
        """SLAs first, then each kind: an issue updated while a later stream pages is then
        read by that stream, not left stale in one read before."""
        kinds = [KIND_STREAMS[kind] for kind, names in self.issue_types.items() if names]
        slas = [Stream(SLA_STREAM, "id", "updated", version_of=issue_version)] if kinds else []
        # Search answers only issues that exist: a weekly whole read removes the deleted ones
        # (and those moved out of JIRA_JQL); their SLAs drop out with them in staging.
        return slas + [
            Stream(name, "id", "updated", version_of=issue_version, refresh_every=WEEKLY)
            for name in kinds
        ]

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        """Issues (or SLAs) updated since the cursor; all of them when JIRA_JQL or the stream's
        issue types changed since, as the issues they add may be older than the cursor."""
        if stream.name == SLA_STREAM:
            types = tuple(name for names in self.issue_types.values() for name in names)
        else:
            kind = next(k for k, s in KIND_STREAMS.items() if s == stream.name)
            types = self.issue_types[kind]
        scope = self.query(types, None)
        since = decode_cursor(cursor, SOURCE, stream.name, scope) if cursor else None
        if stream.name == SLA_STREAM:
            yield from self._read_slas(stream, types, since, scope)
            return

        def read_pass(moment: datetime | None) -> Iterator[TimedPage]:
            yield from self._search(types, moment, ISSUE_FIELDS)

        yield from read_until_settled(
            read_pass, since, self.overlap, issue_updated, stream.key, scope=scope
        )

    def _read_slas(
        self, stream: Stream, types: tuple[str, ...], since: datetime | None, scope: str
    ) -> Iterator[Page]:
        # An issue read again in the same version (a pass read again, the overlap) keeps the
        # SLAs read the first time: one request per issue version, not per pass.
        known: dict[tuple[str, str], Record] = {}

        def slas(issue: Record) -> Record:
            version = (str(issue.get("id")), issue_version(issue))
            if version in known:
                return known[version]
            record = self._slas(issue)
            if len(known) < REPEAT_LIMIT:
                known[version] = record
            return record

        def read_pass(moment: datetime | None) -> Iterator[TimedPage]:
            for issues, answered_at in self._search(types, moment, ("updated", "issuetype")):
                yield [slas(issue) for issue in issues], answered_at

        self._without_request = 0
        yield from read_until_settled(
            read_pass, since, self.overlap, issue_updated, stream.key, scope=scope
        )
        if self._without_request:
            log.warning(
                "%s: %d issues are not service-desk requests (their SLA read answered 404: no "
                "request type, or the account cannot see their service desk); they are stored "
                "without SLA cycles",
                SOURCE,
                self._without_request,
            )

    def account_zone(self) -> ZoneInfo:
        """The time zone JQL dates are read in: the account's own, as Jira reports it."""
        if self._zone is None:
            request = Request("GET", f"{self.base_url}/rest/api/3/myself", context="the account")
            _, body = self.client.fetch_json(request)
            name = body.get("timeZone") if isinstance(body, dict) else None
            try:
                self._zone = ZoneInfo(str(name))
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise SourceError(
                    f"{SOURCE}: the account's time zone {name!r} (from /rest/api/3/myself) is "
                    "not a known IANA zone; JQL dates cannot be written without it"
                ) from exc
        return self._zone

    def query(self, types: tuple[str, ...], since: datetime | None) -> str:
        """JIRA_JQL and the types, updated at or after `since` (account zone, floored to the
        minute), newest first."""
        parts = [f"({self.jql})", f"issuetype in ({', '.join(jql_string(t) for t in types)})"]
        if since is not None:
            local = since.astimezone(self.account_zone()).strftime(JQL_TIME_FORMAT)
            parts.append(f'updated >= "{local}"')
        return " AND ".join(parts) + " ORDER BY updated DESC, key DESC"

    def _search(
        self, types: tuple[str, ...], since: datetime | None, fields: tuple[str, ...]
    ) -> Iterator[TimedPage]:
        jql = self.query(types, since)
        described = f"issues of types {', '.join(types)}"
        first = Request(
            "GET",
            f"{self.base_url}/rest/api/3/search/jql",
            params={"jql": jql, "fields": ",".join(fields), "maxResults": str(self.page_size)},
            context=f"{described} after 0 read ({jql})",
        )
        read = 0

        def next_page(request: Request, response: requests.Response, body: Any) -> Request | None:
            token = body.get("nextPageToken")
            if not token or body.get("isLast") is True:
                return None
            return replace(
                request.with_params(nextPageToken=token),
                context=f"{described} after {read} read ({jql})",
            )

        answer = FirstAnswer(next_page)
        for request, body in self.client.paginate(first, answer):
            read += len(listed(SOURCE, body, "issues", request))
            yield body["issues"], None
        yield [], answer.at

    def _slas(self, issue: Record) -> Record:
        """One record holding every SLA of an issue, with all its pages of SLA values."""
        key = str(issue.get("key") or "")
        fields = issue.get("fields") or {}
        first = Request(
            "GET",
            f"{self.base_url}/rest/servicedeskapi/request/{key}/sla",
            params={"start": "0", "limit": str(SLA_PAGE_SIZE)},
            context=f"SLAs of request {key} from 0",
        )

        def next_page(request: Request, response: requests.Response, body: Any) -> Request | None:
            if body.get("isLastPage", True) or not body["values"]:
                return None
            start = int((request.params or {})["start"]) + len(body["values"])
            return replace(
                request.with_params(start=str(start)), context=f"SLAs of request {key} from {start}"
            )

        try:
            values = [
                value
                for request, body in self.client.paginate(first, next_page)
                for value in listed(SOURCE, body, "values", request)
            ]
        except RequestRefused as exc:
            # An issue of these types created on the Jira side, or deleted since the search, is
            # no service-desk request: it has no SLA cycles, and the other issues still load.
            if exc.status != 404:
                raise
            self._without_request += 1
            values = []
        return {
            "id": issue.get("id"),
            "key": key,
            "issuetype": (fields.get("issuetype") or {}).get("name"),
            "updated": fields.get("updated"),
            "values": values,
        }


def parse_issue_types(text: str) -> dict[str, tuple[str, ...]]:
    """`incident=Incident,Major Incident;change=` -> names per kind; unnamed kinds keep defaults."""
    types = dict(DEFAULT_ISSUE_TYPES)
    for part in (p.strip() for p in text.split(";") if p.strip()):
        kind, equals, names = part.partition("=")
        kind = kind.strip().lower()
        if not equals or kind not in DEFAULT_ISSUE_TYPES:
            raise SourceError(
                f"{SOURCE}: JIRA_ISSUE_TYPES part {part!r} must be incident=..., request=... or "
                "change=... (issue type names separated by commas)"
            )
        types[kind] = tuple(n.strip() for n in names.split(",") if n.strip())
    named = [name for names in types.values() for name in names]
    if len(set(named)) < len(named):
        raise SourceError(f"{SOURCE}: JIRA_ISSUE_TYPES names an issue type for two kinds")
    return types


def from_env(env: Mapping[str, str]) -> JiraSource:
    """Configure from JIRA_* variables; names the variable that is missing or wrong."""
    values = {}
    for name in ("JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_JQL"):
        values[name] = env.get(name, "").strip()
        if not values[name]:
            hint = " (e.g. project = ITSM)" if name == "JIRA_JQL" else ""
            raise SourceError(f"{SOURCE}: {name} is not set{hint}")
    url = require_safe_url(values["JIRA_BASE_URL"], SOURCE)
    jql = values["JIRA_JQL"]
    if " order by " in f" {jql.lower()} ":
        raise SourceError(f"{SOURCE}: JIRA_JQL must not contain ORDER BY; the connector orders")
    client = HttpClient(SOURCE, auth=(values["JIRA_EMAIL"], values["JIRA_API_TOKEN"]))
    return JiraSource(url, client, jql, parse_issue_types(env.get("JIRA_ISSUE_TYPES", "")))
