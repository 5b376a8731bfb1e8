"""Freshservice API v2: tickets (incidents and service requests) and changes, read incrementally.

Both lists page with page/per_page and a `Link: <...>; rel="next"` header, filtered by
`updated_since`. Without that filter the API lists only the last 30 days, so even the first load
sends one (from 2000-01-01): older records would otherwise never be read. Tickets are read with
`include=stats` for their resolved and closed times.

Pages are numbered over live data: a record updated mid-read may be read in its old version. Its
new version is updated after the read began, which the next pass reads (connectors/catch_up.py).
"""

from __future__ import annotations

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
    SourceError,
    listed,
    next_by_link_header,
    require_safe_url,
)

SOURCE = "freshservice"
PAGE_SIZE = 100
OVERLAP = timedelta(minutes=10)
FIRST_LOAD_SINCE = datetime(2000, 1, 1, tzinfo=UTC)
# Stream -> (path, its list's name in the body, extra parameters).
ENDPOINTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "tickets": ("/api/v2/tickets", "tickets", {"include": "stats"}),
    "changes": ("/api/v2/changes", "changes", {}),
}


def updated_at(record: Record) -> datetime | None:
    return parse_utc(record.get("updated_at"))


def version(record: Record) -> str:
    moment = updated_at(record)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") if moment else ""


@dataclass
class FreshserviceSource:
    """Tickets and changes of one Freshservice account, as incremental streams."""

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
            Stream(name, "id", "updated_at", version_of=version, refresh_every=WEEKLY)
            for name in self.endpoints
        ]

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        since = decode_cursor(cursor, SOURCE, stream.name) if cursor else None

        def read_pass(moment: datetime | None) -> Iterator[TimedPage]:
            yield from self._pages(stream.name, moment or FIRST_LOAD_SINCE)

        yield from read_until_settled(read_pass, since, self.overlap, updated_at)

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
