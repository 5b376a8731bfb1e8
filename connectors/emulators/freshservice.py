"""Freshservice API v2 over real HTTP, with the awkward parts kept.

Reproduces ../shared/reference/itsm-apis.md: Basic auth with the API key as user, `/api/v2/tickets`
and `/api/v2/changes` paged by page/per_page (at most 100) with a `Link: <...>; rel="next"` header,
`updated_since`, and without it only records created in the last 30 days; `include=stats` for
resolved, closed and first-response times; X-RateLimit-Total/Remaining headers, 429 with
Retry-After and Freshservice's error bodies. Pages are numbered over the live list, newest
created first; `Churn` updates records while a client pages.

`/api/v2/groups` lists the agent groups (a ticket names its group by `group_id` only), paged the
same way, by id and without any date filter. An API key whose agent role may not see the groups
(`groups_refused`) gets 403 there, as Freshservice answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from connectors.emulators.server import Call, Faults, Reply, basic_credentials, serve

Item = dict[str, Any]
MAX_PER_PAGE = 100
DEFAULT_WINDOW = timedelta(days=30)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_DATES = (
    "created_at",
    "updated_at",
    "due_by",
    "fr_due_by",
    "planned_start_date",
    "planned_end_date",
)
_STATS = ("resolved_at", "closed_at", "first_responded_at")


def invalid(field_name: str, message: str) -> Reply:
    return Reply(
        400,
        {
            "description": "Validation failed",
            "errors": [{"field": field_name, "message": message, "code": "invalid_value"}],
        },
    )


@dataclass
class Churn:
    """After every `every_pages`-th page with more to come, update `records` records of that
    list (a ticket also resolves); at most `max_updates` in all."""

    every_pages: int = 2
    records: int = 3
    max_updates: int = 30
    pages_served: int = 0
    updates: int = 0


@dataclass
class FreshserviceApi:
    """An account's tickets, changes and agent groups (UTC datetimes inside)."""

    tickets: list[Item]
    changes: list[Item]
    api_key: str = field(repr=False)
    churn: Churn | None = None
    clock: Callable[[], float] = time.time
    rate_limit: int = 5000
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    groups: list[Item] = field(default_factory=list)
    groups_refused: bool = False

    def server_clock(self) -> float:
        return self.clock()

    def throttled(self, retry_after: float) -> Reply:
        return Reply(
            429,
            {"message": "You have exceeded the limit of requests per minute"},
            {"Retry-After": f"{retry_after:g}", **self._rate_headers(0)},
        )

    def unavailable(self, status: int) -> Reply:
        return Reply(status, {"code": "internal_error", "message": "Service unavailable"})

    def handle(self, call: Call) -> Reply:
        with self.lock:
            if not self._authenticated(call.headers.get("authorization")):
                return Reply(
                    401,
                    {
                        "code": "access_denied",
                        "message": "You are not authorized to perform this action.",
                    },
                )
            lists = {
                "/api/v2/tickets": ("tickets", self.tickets),
                "/api/v2/changes": ("changes", self.changes),
                "/api/v2/groups": ("groups", self.groups),
            }
            if call.path not in lists:
                return Reply(404, {"code": "resource_not_found", "message": "Not found"})
            if call.path == "/api/v2/groups" and self.groups_refused:
                return Reply(
                    403,
                    {
                        "code": "access_denied",
                        "message": "You are not authorized to perform this action.",
                    },
                )
            name, items = lists[call.path]
            reply = self._list(call, name, items)
            reply.headers.update(self._rate_headers(self.rate_limit - 1))
            return reply

    def _authenticated(self, header: str | None) -> bool:
        # The API key is the user name; the password is ignored.
        credentials = basic_credentials(header)
        return credentials is not None and credentials[0] == self.api_key

    def _rate_headers(self, remaining: int) -> dict[str, str]:
        return {
            "X-RateLimit-Total": str(self.rate_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Used-CurrentRequest": "1",
        }

    def _list(self, call: Call, name: str, items: list[Item]) -> Reply:
        try:
            page = int(call.arg("page") or 1)
            per_page = int(call.arg("per_page") or 30)
        except ValueError:
            return invalid("page", "It should be a Positive Integer")
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            return invalid("per_page", f"It should be a Positive Integer <= {MAX_PER_PAGE}")
        now = datetime.fromtimestamp(self.clock(), UTC)
        since_text = call.arg("updated_since")
        if name == "groups":
            # Groups are listed whole, by id: the API filters them by no date.
            chunk = sorted(items, key=lambda i: i["id"])[(page - 1) * per_page : page * per_page]
            reply = Reply(200, {name: [self.render(i) for i in chunk]})
            if page * per_page < len(items):
                params = {k: v[-1] for k, v in call.query.items()}
                link = f"{call.base_url}{call.path}?{urlencode({**params, 'page': page + 1})}"
                reply.headers["Link"] = f'<{link}>; rel="next"'
            return reply
        if since_text:
            try:
                since = datetime.fromisoformat(since_text.replace("Z", "+00:00"))
            except ValueError:
                return invalid("updated_since", "It should be in the 'valid date' format")
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            matches = [i for i in items if i["updated_at"] >= since]
        else:
            matches = [i for i in items if i["created_at"] >= now - DEFAULT_WINDOW]
        newest_first = (call.arg("order_type") or "desc") != "asc"
        matches.sort(key=lambda i: (i["created_at"], i["id"]), reverse=newest_first)
        chunk = matches[(page - 1) * per_page : page * per_page]
        stats = name == "tickets" and "stats" in (call.arg("include") or "").split(",")
        reply = Reply(200, {name: [self.render(i, stats) for i in chunk]})
        if page * per_page < len(matches):
            params = {k: v[-1] for k, v in call.query.items()}
            link = f"{call.base_url}{call.path}?{urlencode({**params, 'page': page + 1})}"
            reply.headers["Link"] = f'<{link}>; rel="next"'
            self._churn(name, items, now)
        return reply

    def _churn(self, name: str, items: list[Item], now: datetime) -> None:
        churn = self.churn
        if churn is None or churn.updates >= churn.max_updates or not items:
            return
        churn.pages_served += 1
        if churn.pages_served % churn.every_pages:
            return
        step = max(1, len(items) // churn.records)
        for item in items[::step][: churn.records]:
            item["updated_at"] = now
            if name == "tickets" and item["status"] in (2, 3):
                item.update(status=4, resolved_at=now)
            churn.updates += 1

    def render(self, item: Item, stats: bool = False) -> dict[str, Any]:
        """A record as the API lists it: times in UTC with Z, stats only when included."""
        shown = {k: _stamp(v) if k in _DATES else v for k, v in item.items() if k not in _STATS}
        if stats:
            shown["stats"] = {k: _stamp(item.get(k)) for k in _STATS}
        return shown


def _stamp(moment: Any) -> Any:
    return moment.astimezone(UTC).strftime(TIME_FORMAT) if isinstance(moment, datetime) else moment


DEMO_API_KEY = "demo-freshservice-api-key"
DEMO_TICKETS = 900
DEMO_CHANGES = 150


def start_demo(as_of: datetime, workdir: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """Serve a Freshservice account's tickets, changes and agent groups up to `as_of`."""
    from connectors.emulators.catalogue import HISTORY_DAYS
    from connectors.emulators.freshservice_data import (
        sample_changes,
        sample_groups,
        sample_tickets,
    )

    api = FreshserviceApi(
        sample_tickets(as_of, DEMO_TICKETS, days=HISTORY_DAYS),
        sample_changes(as_of, DEMO_CHANGES, days=HISTORY_DAYS),
        DEMO_API_KEY,
        groups=sample_groups(as_of),
    )
    server = serve(api, Faults(throttle_every=97, retry_after=0.05))
    env = {"FRESHSERVICE_URL": server.url, "FRESHSERVICE_API_KEY": DEMO_API_KEY}
    return env, server.stop
