"""PagerDuty's REST API v2 over real HTTP, with the awkward parts kept.

Reproduces ../shared/reference/itsm-apis.md: `Authorization: Token token=...`, `/incidents`
filtered by creation time (since/until at most six months apart, the last 30 days without them,
`date_range=all`; times without an offset read in the account's zone), `statuses[]`, `sort_by`,
offset paging with `more` and a 400 once offset + limit passes 10,000, `total` only when asked,
`/incidents/{id}`, `/services`, `{"error": {"code", "message", "errors"}}` bodies and 429 with
`ratelimit-*` headers. `Churn` acknowledges and resolves open incidents while a client pages.
`delete_incident` deletes one as a user would: it leaves the list and `/incidents/{id}` answers
404; `delete_when_listed` names incidents deleted right after a list page first shows them.
An incident carrying `merged_into` (another incident's id; pagerduty_data.merge) was merged into
that one: it shows a `resolve_reason` of type `merge_resolve_reason` naming the incident it joined.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connectors.emulators.server import Call, Faults, Reply, serve

Incident = dict[str, Any]
OFFSET_CEILING = 10_000
MAX_LIMIT = 100
MAX_RANGE = timedelta(days=180)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def error(status: int, code: int, message: str, *details: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message, "errors": list(details)}})


@dataclass
class Churn:
    """After every `every_pages`-th page with more to come, move `incidents` open incidents one
    step on (triggered -> acknowledged -> resolved), up to `max_updates` in all."""

    every_pages: int = 3
    incidents: int = 2
    max_updates: int = 20
    pages_served: int = 0
    updates: int = 0


@dataclass
class PagerDutyApi:
    """An account: incidents sorted by creation time (UTC datetimes inside) and services."""

    incidents: list[Incident]
    services: list[dict[str, Any]]
    token: str = field(repr=False)
    time_zone: str = "UTC"
    # The zone result times are rendered in: the API's time_zone parameter defaults to the
    # account's (or the token user's) zone, so real answers carry offsets such as +09:00.
    rendered_zone: str = "UTC"
    churn: Churn | None = None
    # Ids deleted as soon as a list page has shown them (deleted while a client pages).
    delete_when_listed: set[str] = field(default_factory=set)
    # The ids asked for one by one (/incidents/{id}), in order, deleted ones included.
    read_by_id: list[str] = field(default_factory=list)
    clock: Callable[[], float] = time.time
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.incidents.sort(key=lambda i: (i["created_at"], i["id"]))
        self._created = [i["created_at"] for i in self.incidents]
        self._by_id = {i["id"]: i for i in self.incidents}

    def create_incidents(self, incidents: list[Incident]) -> None:
        """Add incidents as the account would when they are triggered."""
        with self.lock:
            self.incidents.extend(incidents)
            self.__post_init__()

    def delete_incident(self, incident_id: str) -> Incident:
        """Delete an incident; returns it. Raises KeyError when there is none."""
        with self.lock:
            return self._delete(incident_id)

    def _delete(self, incident_id: str) -> Incident:
        incident = self._by_id.pop(incident_id)
        at = self.incidents.index(incident)
        del self.incidents[at], self._created[at]
        return incident

    def server_clock(self) -> float:
        return self.clock()

    def throttled(self, retry_after: float) -> Reply:
        reply = error(429, 2020, "Rate Limit Exceeded")
        reply.headers.update(
            {
                "ratelimit-limit": "960",
                "ratelimit-remaining": "0",
                "ratelimit-reset": f"{retry_after:g}",
            }
        )
        return reply

    def unavailable(self, status: int) -> Reply:
        return error(status, 2999, "Internal Server Error (injected)")

    def handle(self, call: Call) -> Reply:
        with self.lock:
            if call.headers.get("authorization") != f"Token token={self.token}":
                return error(401, 2006, "Authentication failed")
            if call.path == "/incidents":
                reply = self._list(call)
            elif call.path.startswith("/incidents/"):
                incident_id = call.path.removeprefix("/incidents/")
                self.read_by_id.append(incident_id)
                incident = self._by_id.get(incident_id)
                if incident is None:
                    return error(404, 2100, "Not Found")
                reply = Reply(200, {"incident": self.render(incident)})
            elif call.path == "/services":
                reply = self._services(call)
            else:
                return error(404, 2100, "Not Found")
            reply.headers.update({"ratelimit-limit": "960", "ratelimit-remaining": "959"})
            return reply

    def _list(self, call: Call) -> Reply:
        try:
            limit = min(MAX_LIMIT, max(1, int(call.arg("limit") or 25)))
            offset = max(0, int(call.arg("offset") or 0))
            since, until = self._range(call)
        except ValueError as exc:
            return error(400, 2001, "Invalid Input Provided", str(exc))
        if offset + limit > OFFSET_CEILING:
            return error(
                400, 2001, "Invalid Input Provided", "Offset must be less than 10000 - limit."
            )
        first = bisect.bisect_left(self._created, since) if since else 0
        last = bisect.bisect_left(self._created, until) if until else len(self._created)
        matches = self.incidents[first:last]
        statuses = set(call.query.get("statuses[]", ()))
        if statuses:
            matches = [i for i in matches if i["status"] in statuses]
        sort = call.arg("sort_by") or "created_at:asc"
        if sort.endswith(":desc"):
            matches = matches[::-1]
        page = matches[offset : offset + limit]
        more = offset + limit < len(matches)
        body: dict[str, Any] = {
            "incidents": [self.render(i) for i in page],
            "limit": limit,
            "offset": offset,
            "more": more,
            "total": len(matches) if (call.arg("total") or "").lower() == "true" else None,
        }
        if more:
            self._churn()
        for incident in page:
            if incident["id"] in self.delete_when_listed:
                self.delete_when_listed.discard(incident["id"])
                self._delete(incident["id"])
        return Reply(200, body)

    def _range(self, call: Call) -> tuple[datetime | None, datetime | None]:
        if (call.arg("date_range") or "") == "all":
            return None, None
        now = datetime.fromtimestamp(self.clock(), UTC)
        since = self._time(call.arg("since")) or now - timedelta(days=30)
        until = self._time(call.arg("until")) or now
        if until - since > MAX_RANGE:
            raise ValueError("The maximum range of since and until is 6 months.")
        if until < since:
            raise ValueError("until must be after since.")
        return since, until

    def _time(self, text: str | None) -> datetime | None:
        """An ISO 8601 time; without an offset it is in the account's time zone."""
        if not text:
            return None
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(self.time_zone))
        return moment.astimezone(UTC)

    def _churn(self) -> None:
        churn = self.churn
        if churn is None or churn.updates >= churn.max_updates:
            return
        churn.pages_served += 1
        if churn.pages_served % churn.every_pages:
            return
        now = datetime.fromtimestamp(self.clock(), UTC)
        moved = 0
        for incident in self.incidents:
            if moved == churn.incidents or churn.updates >= churn.max_updates:
                break
            if incident["status"] == "resolved":
                continue
            step = "acknowledged" if incident["status"] == "triggered" else "resolved"
            incident.update(status=step, updated_at=now, last_status_change_at=now)
            if step == "resolved":
                incident["resolved_at"] = now
            moved += 1
            churn.updates += 1

    def render(self, incident: Incident) -> dict[str, Any]:
        """An incident as the API shows it: references as {id, type, summary}, times in UTC."""
        service = incident["service"]
        priority = incident.get("priority")
        return {
            "id": incident["id"],
            "type": "incident",
            "summary": f"[#{incident['number']}] {incident['title']}",
            "incident_number": incident["number"],
            "title": incident["title"],
            "status": incident["status"],
            "urgency": incident["urgency"],
            "created_at": self._stamp(incident["created_at"]),
            "updated_at": self._stamp(incident["updated_at"]),
            "last_status_change_at": self._stamp(incident["last_status_change_at"]),
            "resolved_at": self._stamp(incident.get("resolved_at")),
            "resolve_reason": self._merge_reason(incident["merged_into"])
            if incident.get("merged_into")
            else None,
            "service": {
                "id": service["id"],
                "type": "service_reference",
                "summary": service["name"],
            },
            # A level number shows as the default names P1..P5; a text is an account's own name.
            "priority": {
                "id": f"P{priority}ID",
                "type": "priority",
                "summary": priority if isinstance(priority, str) else f"P{priority}",
            }
            if priority
            else None,
            "teams": [
                {"id": t["id"], "type": "team_reference", "summary": t["name"]}
                for t in incident.get("teams", ())
            ],
            "html_url": f"https://acme.pagerduty.com/incidents/{incident['id']}",
        }

    def _merge_reason(self, survivor_id: str) -> dict[str, Any]:
        survivor = self._by_id.get(survivor_id)
        return {
            "type": "merge_resolve_reason",
            "incident": {
                "id": survivor_id,
                "type": "incident_reference",
                "summary": f"[#{survivor['number']}] {survivor['title']}" if survivor else None,
                "html_url": f"https://acme.pagerduty.com/incidents/{survivor_id}",
            },
        }

    def _stamp(self, moment: datetime | str | None) -> str | None:
        if moment is None or isinstance(moment, str):
            return moment  # text is served as given: a malformed time, for tests of staging
        if self.rendered_zone == "UTC":
            return moment.astimezone(UTC).strftime(TIME_FORMAT)
        return moment.astimezone(ZoneInfo(self.rendered_zone)).isoformat()

    def _services(self, call: Call) -> Reply:
        limit = min(MAX_LIMIT, max(1, int(call.arg("limit") or 25)))
        offset = max(0, int(call.arg("offset") or 0))
        page = self.services[offset : offset + limit]
        return Reply(
            200,
            {
                "services": page,
                "limit": limit,
                "offset": offset,
                "more": offset + limit < len(self.services),
                "total": None,
            },
        )


DEMO_TOKEN = "demo-pagerduty-token"
DEMO_INCIDENTS_PER_DAY = 2


def start_demo(as_of: datetime, workdir: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """Serve the demo organisation's on-call history up to `as_of`, on the catalogue's services.

    The account's clock stands at `as_of`, so a backfilled demo day sees that day's incidents.
    """
    from connectors.emulators.catalogue import HISTORY_DAYS
    from connectors.emulators.pagerduty_data import (
        demo_services,
        sample_incidents,
        sample_services,
    )

    services = demo_services()
    incidents = sample_incidents(
        as_of, HISTORY_DAYS * DEMO_INCIDENTS_PER_DAY, days=HISTORY_DAYS, services=services
    )
    api = PagerDutyApi(
        incidents, sample_services(services), DEMO_TOKEN, clock=lambda: as_of.timestamp()
    )
    server = serve(api, Faults(throttle_every=13, retry_after=0.05))
    env = {"PAGERDUTY_API_URL": server.url, "PAGERDUTY_TOKEN": DEMO_TOKEN}
    return env, server.stop
