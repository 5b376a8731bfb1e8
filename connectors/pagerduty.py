"""PagerDuty REST API v2: on-call incidents and the services they belong to.

`/incidents` filters by creation time only (since/until, at most six months apart) and pages by
offset, and refuses any page past offset + limit = 10,000. So a run reads every incident created
since the last run (less an overlap), oldest first in windows of under six months; when a window
holds more than 10,000 it restarts at the creation time of the last incident read, skipping the
ones already read at that second, until the window is done.

Incidents change after they are created (acknowledged, resolved), which a creation-time filter
never shows. The cursor therefore also remembers the oldest incident still open, and the next
run reads again from there. Within a run, every incident read while open is fetched once more at
the end, so one that was resolved while the run paged lands in its final state. One deleted in
between answers 404 there: the last page names it gone (connectors/removals.py), so it leaves
raw and core instead of staying open, and it no longer holds the cursor back. The pages before
the last store a cursor that has not moved on but names every incident landed open so far, so
one landed by a run that dies and deleted before the next is asked for (404) and removed too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from connectors.base import WEEKLY, Page, Record, Stream
from connectors.catch_up import LANDING_BATCH, parse_utc, server_time
from connectors.http import (
    HttpClient,
    Request,
    RequestRefused,
    SourceError,
    header_delay,
    listed,
    require_safe_url,
)
from connectors.removals import Deletion, GonePage

log = logging.getLogger(__name__)

SOURCE = "pagerduty"
PUBLIC_API = "https://api.pagerduty.com"
PAGE_SIZE = 100
OFFSET_CEILING = 10_000
MAX_WINDOW = timedelta(days=179)
OVERLAP = timedelta(minutes=10)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def pagerduty_retry_after(response: requests.Response) -> float | None:
    """429 waits `ratelimit-reset` seconds (or Retry-After); 5xx retry with backoff."""
    if response.status_code == 429:
        reset = response.headers.get("ratelimit-reset")
        try:
            return max(0.0, float(reset)) if reset else header_delay(response) or 0.0
        except ValueError:
            return header_delay(response) or 0.0
    if response.status_code in (500, 502, 503, 504):
        return header_delay(response) or 0.0
    return None


utc = parse_utc


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def incident_version(record: Record) -> str:
    """The update time in UTC: answers carry the account's (or token user's) offset, and text
    with different offsets does not sort in time order."""
    moment = utc(record.get("updated_at"))
    return stamp(moment) if moment else str(record.get("updated_at") or "")


@dataclass(frozen=True)
class Position:
    """Incidents created before `until` are read; `open_since` is the oldest still open then,
    and `open_ids` are the ones still open (read by id next time even if the list lacks them)."""

    until: datetime
    open_since: datetime | None
    open_ids: tuple[str, ...] = ()

    def encode(self) -> str:
        opened = stamp(self.open_since) if self.open_since else None
        return json.dumps(
            {"until": stamp(self.until), "open_since": opened, "open_ids": list(self.open_ids)}
        )

    @classmethod
    def decode(cls, cursor: str) -> Position:
        try:
            data = json.loads(cursor)
            until = utc(data["until"])
            open_since = utc(data["open_since"]) if data.get("open_since") else None
            open_ids = tuple(str(i) for i in data.get("open_ids") or ())
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(
                f"{SOURCE}: stored cursor of stream incidents is not readable ({cursor!r}); run "
                "a full refresh of this source"
            ) from exc
        if until is None:
            raise SourceError(f"{SOURCE}: stored cursor of stream incidents has no until time")
        return cls(until, open_since, open_ids)


@dataclass
class PagerDutySource:
    """Incidents (incremental by creation time, open ones re-read) and services (whole)."""

    api_url: str
    client: HttpClient
    page_size: int = PAGE_SIZE
    overlap: timedelta = OVERLAP
    name: str = SOURCE

    def streams(self) -> list[Stream]:
        return [
            Stream("services", "id"),
            # PagerDuty reports no deletions: a weekly whole read finds the resolved ones.
            Stream(
                "incidents", "id", "updated_at", version_of=incident_version, refresh_every=WEEKLY
            ),
        ]

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        if stream.name == "services":
            yield from self._services()
            return
        first, now = self._oldest_incident()
        last = Position.decode(cursor) if cursor else None
        if last is not None:
            start = last.until - self.overlap
            if last.open_since is not None:
                start = min(start, last.open_since)
        elif first is not None:
            start = first
        else:
            yield Page([], Position(now, None).encode())
            return
        until = now + timedelta(seconds=1)
        # Open at the last run's end and not listed now: deleted since (a 404 will tell).
        unlisted = set(last.open_ids) if last is not None else set()
        # Each open incident's creation time and listed version (a removal must not predate it).
        open_ids: dict[str, tuple[datetime, str]] = {}
        batch: list[Record] = []

        def so_far() -> str | None:
            """A cursor for the pages before the last: read from where this run started, and
            ask by id for every incident landed open so far (ones deleted before the next run
            show in no list). A whole read (no cursor) stores none, since it must not move back
            the cursor the night's incremental read left."""
            if last is None:
                return None
            opened = [created for created, _ in open_ids.values()]
            if last.open_since is not None:
                opened.append(last.open_since)
            return Position(
                last.until, min(opened, default=None), tuple(sorted(open_ids.keys() | unlisted))
            ).encode()

        while start < until:
            end = min(until, start + MAX_WINDOW)
            for records in self._window(start, end):
                for record in records:
                    unlisted.discard(str(record.get("id")))
                    if record.get("status") == "resolved":
                        open_ids.pop(str(record.get("id")), None)
                    elif record.get("id") is None:
                        raise SourceError(
                            f"{SOURCE}: incidents created {start:%Y-%m-%d} to {end:%Y-%m-%d}: "
                            f"an open incident without id (created {record.get('created_at')})"
                        )
                    else:
                        created = utc(record.get("created_at")) or start
                        open_ids[str(record["id"])] = (created, incident_version(record))
                batch.extend(records)
                if len(batch) >= LANDING_BATCH:
                    yield Page(batch, so_far())
                    batch = []
            start = end
        still_open: dict[str, datetime] = {}
        gone: list[Deletion] = []
        unlisted_since = last.open_since if last is not None and last.open_since else until
        for incident_id in sorted(open_ids.keys() | unlisted):
            created, listed = open_ids.get(incident_id, (unlisted_since, ""))
            latest = self._incident(incident_id)
            if latest is None:
                # Not before the version listed, so the removal outranks it (apply_deletions).
                gone.append(Deletion("incidents", incident_id, max(stamp(now), listed)))
                log.warning(
                    "%s: incident %s is gone at the source (HTTP 404 when read again by id); "
                    "removing it",
                    SOURCE,
                    incident_id,
                )
                continue
            if latest.get("status") != "resolved":
                still_open[incident_id] = utc(latest.get("created_at")) or created
            batch.append(latest)
            if len(batch) >= LANDING_BATCH:
                yield Page(batch, so_far())
                batch = []
        # The deletions ride on the page that moves the cursor past them: both land or neither.
        position = Position(
            until, min(still_open.values(), default=None), tuple(sorted(still_open))
        )
        yield GonePage(batch, position.encode(), gone=gone)

    def _incidents_request(self, params: dict[str, str], context: str) -> Request:
        return Request("GET", f"{self.api_url}/incidents", params=params, context=context)

    def _oldest_incident(self) -> tuple[datetime | None, datetime]:
        """The creation time of the account's first incident, and the server's clock now."""
        request = self._incidents_request(
            {"date_range": "all", "sort_by": "created_at:asc", "limit": "1", "total": "false"},
            "the oldest incident",
        )
        response, body = self.client.fetch_json(request)
        incidents = listed(SOURCE, body, "incidents", request)
        now = server_time(response) or datetime.now(UTC)
        return (utc(incidents[0].get("created_at")) if incidents else None), now

    def _window(self, since: datetime, until: datetime) -> Iterator[list[Record]]:
        """Incidents created in [since, until), oldest first, pages under the offset ceiling."""
        offset, last_created, last_ids = 0, None, set()
        while True:
            request = self._incidents_request(
                {
                    "since": stamp(since),
                    "until": stamp(until),
                    "sort_by": "created_at:asc",
                    "limit": str(self.page_size),
                    "offset": str(offset),
                    "total": "false",
                },
                f"incidents created {stamp(since)} to {stamp(until)} at offset {offset}",
            )
            _, body = self.client.fetch_json(request)
            page = listed(SOURCE, body, "incidents", request)
            fresh = []
            for record in page:
                created = utc(record.get("created_at"))
                if created == last_created and record.get("id") in last_ids:
                    continue  # read before the window restarted at this second
                if created != last_created:
                    last_created, last_ids = created, set()
                last_ids.add(record.get("id"))
                fresh.append(record)
            yield fresh
            if not body.get("more") or not page:
                return
            offset += len(page)
            if offset + self.page_size > OFFSET_CEILING:
                if last_created is None or last_created <= since:
                    raise SourceError(
                        f"{SOURCE}: {request.context}: more than {OFFSET_CEILING} incidents "
                        f"were created at {stamp(since)}; the window cannot be split further"
                    )
                since, offset = last_created, 0

    def _incident(self, incident_id: str) -> Record | None:
        """The incident as it is now; None when the source no longer has it (404)."""
        request = Request(
            "GET", f"{self.api_url}/incidents/{incident_id}", context=f"incident {incident_id}"
        )
        try:
            _, body = self.client.fetch_json(request)
        except RequestRefused as exc:
            if exc.status != 404:
                raise
            return None
        incident = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(incident, dict):
            raise SourceError(f"{SOURCE}: {request.context}: answer has no incident")
        return incident

    def _services(self) -> Iterator[Page]:
        first = Request(
            "GET",
            f"{self.api_url}/services",
            params={"limit": str(self.page_size), "offset": "0", "total": "false"},
            context="services at offset 0",
        )

        def next_page(request: Request, response: requests.Response, body: Any) -> Request | None:
            if not body.get("more") or not body["services"]:
                return None
            offset = int((request.params or {})["offset"]) + len(body["services"])
            return replace(
                request.with_params(offset=str(offset)), context=f"services at offset {offset}"
            )

        for request, body in self.client.paginate(first, next_page):
            yield Page(listed(SOURCE, body, "services", request), None)


def from_env(env: Mapping[str, str]) -> PagerDutySource:
    """Configure from PAGERDUTY_TOKEN and PAGERDUTY_API_URL (default the public API)."""
    token = env.get("PAGERDUTY_TOKEN", "").strip()
    if not token:
        raise SourceError(f"{SOURCE}: PAGERDUTY_TOKEN is not set")
    url = require_safe_url(env.get("PAGERDUTY_API_URL", "").strip() or PUBLIC_API, SOURCE)
    client = HttpClient(
        SOURCE,
        headers={
            "Authorization": f"Token token={token}",
            "Accept": "application/vnd.pagerduty+json;version=2",
        },
        retry_after=pagerduty_retry_after,
    )
    return PagerDutySource(url, client)
