"""A Jira Service Management Cloud site over real HTTP, with the awkward parts kept.

Reproduces ../shared/reference/itsm-apis.md: the enhanced search `/rest/api/3/search/jql` with
`nextPageToken` (no total, no startAt; the old `/rest/api/3/search` answers 410), only `id`
unless `fields` are asked for, pages shorter than `maxResults`, a 400 for unbounded JQL, dates
in JQL read in the account's time zone at minute precision, timestamps rendered in that zone
with a colon-less offset, `{"errorMessages", "errors"}` bodies, Retry-After and X-RateLimit-*
headers, and the servicedeskapi SLA endpoint. The page token is an offset into the live result,
the worst case for a client: issues updated while it pages (`Churn`) shift the rest.
"""

from __future__ import annotations

import base64
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connectors.emulators.server import Call, Faults, Reply, basic_credentials, serve

Issue = dict[str, Any]
_CLAUSE = re.compile(r"^\s*(\w+)\s*(>=|<=|=|>|<|\bin\b)\s*(.+?)\s*$", re.IGNORECASE)
_SLA_PATH = re.compile(r"^/rest/servicedeskapi/request/([A-Za-z0-9_-]+)/sla/?$")
MAX_PAGE = 100


def errors(status: int, *messages: str, **by_field: str) -> Reply:
    return Reply(status, {"errorMessages": list(messages), "errors": by_field})


@dataclass
class Churn:
    """After every `every_pages`-th page with more to come, update `issues` issues.

    An updated issue gets the site's current time as `updated` and moves to the front of a
    newest-first search; stops after `max_updates` so a client always reaches the end.
    """

    every_pages: int = 2
    issues: int = 3
    max_updates: int = 30
    pages_served: int = 0
    updates: int = 0


@dataclass
class JiraApi:
    """A site: its issues (UTC datetimes inside), the account's zone, credentials and faults."""

    issues: list[Issue]
    email: str
    api_token: str = field(repr=False)
    time_zone: str = "UTC"
    churn: Churn | None = None
    max_page: int = MAX_PAGE
    # What the site defines, whether or not an issue uses it (JQL refuses other values).
    issue_types: tuple[str, ...] = ("Incident", "Service Request", "Change", "Task", "Problem")
    projects: tuple[str, ...] = ("ITSM",)
    clock: Callable[[], float] = time.time
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def server_clock(self) -> float:
        return self.clock()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def throttled(self, retry_after: float) -> Reply:
        reset = datetime.fromtimestamp(self.clock() + retry_after, UTC)
        reply = errors(429, "Rate limit exceeded.")
        reply.headers.update(
            {
                "Retry-After": f"{retry_after:g}",
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
                "X-RateLimit-Remaining": "0",
            }
        )
        return reply

    def unavailable(self, status: int) -> Reply:
        return errors(status, "The service is temporarily unavailable (injected).")

    def handle(self, call: Call) -> Reply:
        with self.lock:
            if not self._authenticated(call.headers.get("authorization")):
                return errors(401, "You are not authenticated. Authentication required.")
            reply = self._answer(call)
            reply.headers.setdefault("X-RateLimit-Remaining", "1000")
            return reply

    def _answer(self, call: Call) -> Reply:
        if call.path == "/rest/api/3/myself":
            return Reply(
                200,
                {
                    "accountId": "5b10a2844c20165700ede21g",
                    "emailAddress": self.email,
                    "timeZone": self.time_zone,
                    "active": True,
                },
            )
        if call.path == "/rest/api/3/search":
            return errors(
                410,
                "The requested API has been removed. Please migrate to the "
                "/rest/api/3/search/jql API.",
            )
        if call.path == "/rest/api/3/search/jql":
            params = call.json() if call.method == "POST" else None
            return self._search(call, params or {})
        match = _SLA_PATH.match(call.path)
        if match:
            return self._sla(call, match[1])
        return errors(404, f"No resource at {call.path}")

    def _authenticated(self, header: str | None) -> bool:
        return basic_credentials(header) == (self.email, self.api_token)

    def _search(self, call: Call, body: dict[str, Any]) -> Reply:
        def arg(name: str) -> Any:
            return body.get(name) if name in body else call.arg(name)

        jql = arg("jql") or ""
        try:
            matches = self._matching(jql)
        except ValueError as exc:
            return errors(400, str(exc))
        wanted = arg("fields")
        if isinstance(wanted, str):
            wanted = [f.strip() for f in wanted.split(",") if f.strip()]
        try:
            offset = _offset(arg("nextPageToken"))
            size = max(1, min(int(arg("maxResults") or 50), self.max_page))
        except ValueError:
            return errors(400, "The nextPageToken or maxResults is not valid.")
        page = matches[offset : offset + size]
        more = offset + size < len(matches)
        answer: dict[str, Any] = {
            "issues": [self.render(i, wanted or [], call.base_url) for i in page],
            "isLast": not more,
        }
        if more:
            answer["nextPageToken"] = _token(offset + size)
            self._churn(matches)
        return Reply(200, answer)

    def _matching(self, jql: str) -> list[Issue]:
        """Issues the JQL selects, in its ORDER BY (updated and key, either direction)."""
        where, _, order = re.sub(r"\s+order\s+by\s+", "\0", jql, count=1, flags=re.I).partition(
            "\0"
        )
        tests = [self._clause(c) for c in _conjuncts(where)]
        if not any(kind != "updated" for kind, _ in tests):
            raise ValueError(
                "Unbounded JQL queries are not allowed here. Please add a search restriction "
                "to your query."
            )
        selected = [i for i in self.issues if all(test(i) for _, test in tests)]
        for term in reversed([t.strip() for t in order.split(",") if t.strip()]):
            name, _, direction = term.partition(" ")
            key = _ORDER_KEYS.get(name.lower())
            if key is None:
                raise ValueError(f"Not able to sort using field '{name}'.")
            selected.sort(key=key, reverse=direction.strip().lower() == "desc")
        return selected

    def _clause(self, text: str) -> tuple[str, Callable[[Issue], bool]]:
        match = _CLAUSE.match(text)
        if not match:
            raise ValueError(f"Error in the JQL Query: cannot read '{text}'.")
        name, op, value = match[1].lower(), match[2].lower(), match[3]
        if name == "updated":
            moment = self._jql_date(value)
            compare = {
                ">=": lambda i: i["updated"] >= moment,
                ">": lambda i: i["updated"] > moment,
                "<": lambda i: i["updated"] < moment,
                "<=": lambda i: i["updated"] <= moment,
            }
            if op not in compare:
                raise ValueError(f"The operator '{op}' is not supported by the 'updated' field.")
            return "updated", compare[op]
        if name in ("project", "issuetype"):
            wanted = {v.lower() for v in _values(value)}
            known = {v.lower() for v in (self.projects if name == "project" else self.issue_types)}
            for unknown in sorted(wanted - known):
                raise ValueError(f"The value '{unknown}' does not exist for the field '{name}'.")
            return name, lambda i: _field_of(i, name).lower() in wanted
        raise ValueError(f"Field '{name}' does not exist or you do not have permission to view it.")

    def _jql_date(self, value: str) -> datetime:
        text = value.strip().strip('"').strip("'")
        for pattern in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
            try:
                local = datetime.strptime(text, pattern)
            except ValueError:
                continue
            return local.replace(tzinfo=self.zone).astimezone(UTC)
        raise ValueError(
            f"Date value '{text}' for field 'updated' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd'."
        )

    def _churn(self, matches: list[Issue]) -> None:
        """Update issues the search being paged selects, spread over read and unread ones."""
        churn = self.churn
        if churn is None or churn.updates >= churn.max_updates or not matches:
            return
        churn.pages_served += 1
        if churn.pages_served % churn.every_pages:
            return
        now = datetime.fromtimestamp(self.clock(), UTC)
        step = max(1, len(matches) // churn.issues)
        first = churn.pages_served % step
        for issue in matches[first::step][: churn.issues]:
            issue["updated"] = now
            if issue.get("resolved") is None:
                issue.update(
                    status="Resolved",
                    category="done",
                    resolution="Done",
                    resolved=now,
                    category_changed=now,
                )
            churn.updates += 1

    def render(self, issue: Issue, wanted: Iterable[str], base_url: str) -> dict[str, Any]:
        """An issue as search returns it: id, key, self, and only the fields asked for."""
        everything = {
            "created": self.stamp(issue["created"]),
            "updated": self.stamp(issue["updated"]),
            "resolutiondate": self.stamp(issue.get("resolved")),
            "statuscategorychangedate": self.stamp(_category_changed(issue)),
            "priority": {"name": issue["priority"], "id": str(issue.get("priority_id", "3"))},
            "status": {
                "name": issue["status"],
                "statusCategory": {"key": issue["category"]},
            },
            "issuetype": {"name": issue["type"]},
            "resolution": {"name": issue["resolution"]} if issue.get("resolution") else None,
            "components": [_component(c, base_url) for c in issue.get("components", ())],
            "project": {"key": issue["project"]},
        }
        rendered: dict[str, Any] = {
            "expand": "",
            "id": issue["id"],
            "self": f"{base_url}/rest/api/3/issue/{issue['id']}",
            "key": issue["key"],
        }
        fields = {name: everything[name] for name in wanted if name in everything}
        if fields:
            rendered["fields"] = fields
        return rendered

    def stamp(self, moment: datetime | None) -> str | None:
        """`2015-09-15T11:02:23.000+0900`: the account's zone, milliseconds, no colon."""
        if moment is None:
            return None
        local = moment.astimezone(self.zone)
        return (
            local.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{local.microsecond // 1000:03d}"
            + (local.strftime("%z"))
        )

    def _sla(self, call: Call, key: str) -> Reply:
        issue = next((i for i in self.issues if i["key"] == key), None)
        if issue is None or "slas" not in issue:
            return Reply(
                404,
                {
                    "errorMessage": "Request does not exist or you do not have "
                    "permission to see it.",
                    "i18nErrorMessage": {"i18nKey": "sd.request.error.not.found", "parameters": []},
                },
            )
        start = int(call.arg("start", "0") or 0)
        limit = max(1, min(int(call.arg("limit", "50") or 50), 50))
        values = [self._sla_value(n, sla) for n, sla in enumerate(issue["slas"], start=1)]
        page = values[start : start + limit]
        return Reply(
            200,
            {
                "size": len(page),
                "start": start,
                "limit": limit,
                "isLastPage": start + limit >= len(values),
                "values": page,
            },
        )

    def _sla_value(self, number: int, sla: dict[str, Any]) -> dict[str, Any]:
        value: dict[str, Any] = {
            "id": str(number),
            "name": sla["name"],
            "completedCycles": [self._cycle(c) for c in sla.get("completed", ())],
        }
        # No running cycle: left out, or null where the sample says None (both shapes occur).
        if "ongoing" in sla:
            value["ongoingCycle"] = self._cycle(sla["ongoing"]) if sla["ongoing"] else None
        return value

    def _cycle(self, cycle: dict[str, Any]) -> dict[str, Any]:
        goal = cycle["goal"]
        elapsed = (cycle.get("stop") or cycle["start"] + goal) - cycle["start"]
        body = {
            "startTime": self._date(cycle["start"]),
            "breachTime": self._date(cycle["start"] + goal),
            "breached": cycle.get("breached", False),
            "goalDuration": _duration(goal),
            "elapsedTime": _duration(elapsed),
            "remainingTime": _duration(goal - elapsed),
        }
        if cycle.get("stop"):
            body["stopTime"] = self._date(cycle["stop"])
        else:
            body.update(paused=cycle.get("paused", False), withinCalendarHours=True)
        return body

    def _date(self, moment: datetime) -> dict[str, Any]:
        local = moment.astimezone(self.zone)
        return {
            "iso8601": local.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "jira": self.stamp(moment),
            "friendly": local.strftime("%d/%b/%y %I:%M %p"),
            "epochMillis": int(moment.timestamp() * 1000),
        }


_ORDER_KEYS: dict[str, Callable[[Issue], Any]] = {
    "updated": lambda i: i["updated"],
    "created": lambda i: i["created"],
    "key": lambda i: (i["project"], int(i["key"].rsplit("-", 1)[-1])),
}


def _category_changed(issue: Issue) -> datetime | None:
    """When the issue entered its status category: `category_changed` where the issue says
    (None renders null); else a new issue since creation, a resolved one at its resolution and
    any other at its last update."""
    if "category_changed" in issue:
        return issue["category_changed"]
    if issue["category"] == "new":
        return issue["created"]
    return issue.get("resolved") or issue["updated"]


def _field_of(issue: Issue, name: str) -> str:
    return issue["project"] if name == "project" else issue["type"]


def _conjuncts(where: str) -> list[str]:
    """Top-level AND parts, each with its outer parentheses removed (one level of nesting)."""
    parts, depth, current = [], 0, ""
    tokens = re.split(r"(\(|\)|\s+and\s+|\"[^\"]*\")", where, flags=re.IGNORECASE)
    for token in tokens:
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        if depth == 0 and re.fullmatch(r"\s+and\s+", token or "", re.IGNORECASE):
            parts.append(current)
            current = ""
        else:
            current += token or ""
    parts.append(current)
    flat: list[str] = []
    for part in (p.strip() for p in parts if p.strip()):
        if part.startswith("(") and part.endswith(")"):
            flat.extend(_conjuncts(part[1:-1]))
        else:
            flat.append(part)
    return flat


def _values(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return [v.strip().strip('"').strip("'") for v in re.findall(r'"[^"]*"|[^,]+', text)]


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    kind, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
    if kind != "offset":
        raise ValueError(token)
    return int(number)


def _duration(span: timedelta) -> dict[str, Any]:
    millis = int(span.total_seconds() * 1000)
    return {"millis": millis, "friendly": f"{millis // 3_600_000}h {millis // 60_000 % 60}m"}


DEMO_EMAIL = "scorecard.demo@example.com"
DEMO_API_TOKEN = "demo-jira-api-token"
DEMO_ISSUES = 600


def start_demo(as_of: datetime, workdir: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """Serve a Jira Service Management site (account zone Europe/Berlin) up to `as_of`."""
    from connectors.emulators.catalogue import HISTORY_DAYS
    from connectors.emulators.jira_data import sample_issues

    api = JiraApi(
        sample_issues(as_of, DEMO_ISSUES, days=HISTORY_DAYS),
        DEMO_EMAIL,
        DEMO_API_TOKEN,
        time_zone="Europe/Berlin",
    )
    server = serve(api, Faults(throttle_every=250, retry_after=0.05))
    env = {
        "JIRA_BASE_URL": server.url,
        "JIRA_EMAIL": DEMO_EMAIL,
        "JIRA_API_TOKEN": DEMO_API_TOKEN,
        "JIRA_JQL": "project = ITSM",
    }
    return env, server.stop


def _component(component: str | dict[str, str], base_url: str) -> dict[str, str]:
    """A component as Jira renders it: its id and its name as they are when the issue is read.
    An issue names a component by its name alone (an id is made from it) or by {"id", "name"}."""
    if isinstance(component, str):
        component = {"id": str(10000 + zlib.crc32(component.encode()) % 90000), "name": component}
    return {
        "self": f"{base_url}/rest/api/3/component/{component['id']}",
        "id": component["id"],
        "name": component["name"],
    }
