"""Reading records filtered by "updated since" while they keep changing, pass after pass.

Jira and Freshservice filter by update time but page by an opaque token or a page number over
live data: a record updated during a pass is read in its old version, or (Jira, newest first) not
at all. Its new version then carries an update time at or after the moment the pass began, which
the server's own clock tells (the Date of the pass's first answer). So the next pass reads from
there, less the overlap, and passes repeat until one finds nothing updated since the pass before
it began, in a single answer (a pass of several pages may miss what changed while it paged,
and another pass follows). Each pass ends with that moment as the cursor: a run stopped between
passes resumes from the last finished one and loses nothing; landing de-duplicates repeats.

A record that leaves the result while a pass pages (deleted, or no longer matching the query)
moves every later one up a place, and the first of the next page is never served, though it did
not change. So the first pass, when it took several pages and read at most REPEAT_LIMIT records,
is read again from the same moment until a repeat finds no key the window's passes had not read,
of a record updated before its first pass began (one updated since is read by the passes that
follow). Only then does the cursor move, to when that first pass began. Larger reads (a first
load, a long catch-up) are read once: the weekly whole read brings back what they skipped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from connectors.base import Page, Record
from connectors.http import NextPage, Request, SourceError

log = logging.getLogger(__name__)

# A page of records and the server's time when it answered (None when it sent no Date).
TimedPage = tuple[list[Record], datetime | None]
MAX_PASSES = 6
# The most records a first pass may read to be read again (see above); its keys are kept.
REPEAT_LIMIT = 10_000
# Records landed per transaction: the cursor moves only between passes, so the API's pages are
# gathered to spare a commit each.
LANDING_BATCH = 2000


def parse_utc(text: Any) -> datetime | None:
    """An ISO-8601 time with an offset (or Z) as UTC; None when missing, malformed, naive or
    beyond the years 1 to 9999 once in UTC ('0001-01-01T00:00:00+05:30')."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo else None
    except (ValueError, OverflowError):
        return None


def server_time(response: requests.Response) -> datetime | None:
    """The server's clock from its Date header, in UTC."""
    try:
        return parsedate_to_datetime(response.headers["Date"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return None


@dataclass
class FirstAnswer:
    """Wraps a paging rule for HttpClient.paginate and remembers when the server sent its first
    page: the moment a pass began, which it yields last, as `([], first.at)`."""

    next_page: NextPage
    at: datetime | None = None

    def __call__(self, request: Request, response: requests.Response, body: Any) -> Request | None:
        self.at = self.at or server_time(response)
        return self.next_page(request, response, body)


def encode_cursor(moment: datetime, scope: str | None = None) -> str:
    """The cursor: a moment, and the query (`scope`) whose records were read up to it."""
    position: dict[str, str] = {"updated_since": moment.astimezone(UTC).isoformat()}
    if scope is not None:
        position["scope"] = scope
    return json.dumps(position)


def decode_cursor(
    cursor: str, source: str, stream: str, scope: str | None = None
) -> datetime | None:
    """The stored moment; None when it was reached by another query than `scope` (the records
    the query now adds were never read, however long ago they were updated). A cursor stored
    without a scope counts as the current query's."""
    try:
        position = json.loads(cursor)
        moment = datetime.fromisoformat(position["updated_since"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(
            f"{source}: stored cursor of stream {stream} is not readable ({cursor!r}); run a "
            "full refresh of this source"
        ) from exc
    if moment.tzinfo is None:
        raise SourceError(f"{source}: stored cursor of stream {stream} has no time zone")
    stored = position.get("scope")
    if scope is not None and stored is not None and stored != scope:
        log.info(
            "%s.%s: the query changed since the last read (was %s, now %s); reading it whole",
            source,
            stream,
            stored,
            scope,
        )
        return None
    return moment


def read_until_settled(
    read_pass: Callable[[datetime | None], Iterator[TimedPage]],
    cursor: datetime | None,
    overlap: timedelta,
    updated_at: Callable[[Record], datetime | None],
    key: Callable[[Record], str],
    max_passes: int = MAX_PASSES,
    scope: str | None = None,
) -> Iterator[Page]:
    """Pages of every record updated since `cursor` (less `overlap`; everything when None).

    A first pass of several pages and at most REPEAT_LIMIT records is read again until a repeat
    finds no record it skipped (`key` tells records apart). Stops after the first one-page pass
    that found nothing updated since the previous pass began, or after `max_passes` (a source
    that never stops changing): the next run goes on from the cursor. Each cursor names the
    `scope` (the query) it was reached by.
    """
    since = cursor - overlap if cursor else None
    previous_start = cursor
    # While the first pass's window is read again: when that pass began, and the keys read.
    window: tuple[datetime, set[str]] | None = None
    first = True
    for _ in range(max_passes):
        started: datetime | None = None
        newest: datetime | None = None
        news = previous_start is None
        skipped = False
        keys: set[str] = set()
        batch: list[Record] = []
        pages = read = 0
        for records, answered_at in read_pass(since):
            started = started or answered_at
            pages += bool(records)
            for record in records:
                read += 1
                moment = updated_at(record)
                if window is not None:
                    # One updated after the first pass began is read by the passes that follow.
                    skipped = skipped or (
                        key(record) not in window[1] and (moment is None or moment < window[0])
                    )
                    window[1].add(key(record))
                elif first and read <= REPEAT_LIMIT:
                    keys.add(key(record))
                if moment is None:
                    continue
                newest = max(newest, moment) if newest else moment
                news = news or (previous_start is not None and moment >= previous_start)
            batch.extend(records)
            if len(batch) >= LANDING_BATCH:
                yield Page(batch, None)
                batch = []
        # Without a server clock the newest record read is the best lower bound left.
        start = started or newest or since
        if start is None:
            yield Page(batch, None)
            return
        if first and pages > 1 and read <= REPEAT_LIMIT:
            window = (start, keys)
        elif window is not None and not skipped:
            # Read whole up to when the first pass began; what changed since is read next.
            start, window = window[0], None
        first = False
        if window is not None:
            # A record may have gone unserved: the cursor stays until the window is read whole.
            yield Page(batch, None)
            continue
        yield Page(batch, encode_cursor(start, scope))
        # One answer is a snapshot: nothing can change between its pages. A pass of several
        # may have missed what changed while it paged, so only a one-page pass ends the read.
        if not news and pages <= 1:
            return
        previous_start, since = start, start - overlap
