"""Freshservice API v2: tickets (incidents and service requests) and changes, read incrementally,
and the agent groups, read whole.

Both lists page with page/per_page and a `Link: <...>; rel="next"` header, filtered by
`updated_since`. Without that filter the API lists only the last 30 days, so even the first load
sends one (from 2000-01-01): older records would otherwise never be read. Tickets are read with
`include=stats` for their resolved and closed times.

Pages are numbered over live data: a record updated mid-read may be read in its old version. Its
new version is updated after the read began, which the next pass reads (connectors/catch_up.py).
A record deleted mid-read (or marked spam) moves the later ones up a page, past one never served:
the window is read again until nothing new turns up.

A ticket names its group by `group_id` alone; staging names it by the group's name, so the
groups (tens to a few thousand) are read whole every run, paged the same way, and land as one
page that holds them all (connectors/removals.py WindowPage over every version): a group
deleted at the source leaves, and a rename names every ticket, those read before it too. An API
key whose agent role may not see the groups gets 403 there: that is logged and the stored groups
are kept (the tickets of a group never read keep its id), as is the case when the list is empty,
more likely an access rule than an account without groups.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.base import WEEKLY, Page, Record, Stream
from connectors.catch_up import (
    FirstAnswer,
    TimedPage,
    decode_cursor,
    parse_utc,
    read_until_settled,
)
from connectors.http import (
    HttpClient,
    Request,
    RequestRefused,
    SourceError,
    listed,
    next_by_link_header,
    require_safe_url,
)
from connectors.removals import WindowPage

log = logging.getLogger(__name__)

SOURCE = "freshservice"
PAGE_SIZE = 100
OVERLAP = timedelta(minutes=10)
FIRST_LOAD_SINCE = datetime(2000, 1, 1, tzinfo=UTC)
# Stream -> (path, its list's name in the body, extra parameters).
ENDPOINTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "tickets": ("/api/v2/tickets", "tickets", {"include": "stats"}),
    "changes": ("/api/v2/changes", "changes", {}),
}
GROUPS = "groups"
GROUPS_PATH = "/api/v2/groups"
# A group's version (its updated_at, or "" without one) lies in this window: the page of all
# groups replaces every stored one.
EVERY_VERSION = ("", "~")


def updated_at(record: Record) -> datetime | None:
    return parse_utc(record.get("updated_at"))


def version(record: Record) -> str:
    moment = updated_at(record)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") if moment else ""


@dataclass
class FreshserviceSource:
    """Tickets and changes of one Freshservice account, as incremental streams, and its agent
    groups, read whole."""

    url: str
    client: HttpClient
    page_size: int = PAGE_SIZE
    overlap: timedelta = OVERLAP
    endpoints: Mapping[str, tuple[str, str, dict[str, str]]] = field(
        default_factory=lambda: ENDPOINTS
    )
    name: str = SOURCE

    def streams(self) -> list[Stream]:
        # The lists answer only records that exist: a weekly whole read removes deleted ones.
        return [
            *(
                Stream(name, "id", "updated_at", version_of=version, refresh_every=WEEKLY)
                for name in self.endpoints
            ),
            Stream(GROUPS, "id", "updated_at", version_of=version),
        ]

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        if stream.name == GROUPS:
            yield from self._groups()
            return
        since = decode_cursor(cursor, SOURCE, stream.name) if cursor else None

        def read_pass(moment: datetime | None) -> Iterator[TimedPage]:
            yield from self._pages(stream.name, moment or FIRST_LOAD_SINCE)

        yield from read_until_settled(read_pass, since, self.overlap, updated_at, stream.key)

    def _pages(self, stream: str, since: datetime) -> Iterator[TimedPage]:
        path, key, extra = self.endpoints[stream]
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        first = Request(
            "GET",
            f"{self.url}{path}",
            params={
                **extra,
                "updated_since": stamp,
                "per_page": str(self.page_size),
                "page": "1",
            },
            context=f"{stream} updated since {stamp}",
        )
        answer = FirstAnswer(next_by_link_header)
        for request, body in self.client.paginate(first, answer):
            yield listed(SOURCE, body, key, request), None
        yield [], answer.at

    def _groups(self) -> Iterator[Page]:
        """Every agent group, as one page that replaces the stored ones; none when refused."""
        first = Request(
            "GET",
            f"{self.url}{GROUPS_PATH}",
            params={"per_page": str(self.page_size), "page": "1"},
            context="agent groups",
        )
        groups: list[Record] = []
        try:
            for request, body in self.client.paginate(first, next_by_link_header):
                groups.extend(listed(SOURCE, body, GROUPS, request))
        except RequestRefused as exc:
            if exc.status != 403:
                raise
            log.warning(
                "%s: the API key's role may not read the agent groups, so tickets whose group "
                "was never read show its id; the groups read before are kept (%s)",
                SOURCE,
                exc,
            )
            return
        if not groups:
            log.warning(
                "%s: the agent groups list is empty; keeping the groups read before", SOURCE
            )
            return
        yield WindowPage(groups, None, window=EVERY_VERSION)


def from_env(env: Mapping[str, str]) -> FreshserviceSource:
    """Configure from FRESHSERVICE_URL and FRESHSERVICE_API_KEY."""
    url = env.get("FRESHSERVICE_URL", "").strip()
    if not url:
        raise SourceError(
            f"{SOURCE}: FRESHSERVICE_URL is not set (https://<domain>.freshservice.com)"
        )
    url = require_safe_url(url, SOURCE)
    key = env.get("FRESHSERVICE_API_KEY", "").strip()
    if not key:
        raise SourceError(f"{SOURCE}: FRESHSERVICE_API_KEY is not set")
    # The API key is the Basic-auth user name; the password is ignored (by convention "X").
    return FreshserviceSource(url, HttpClient(SOURCE, auth=(key, "X")))
