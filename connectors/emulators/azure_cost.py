"""Azure Cost Management Query emulator: bearer auth, columns/rows, nextLink, 429 quota headers.

Serves the demo organisation's Azure spend by day (UsageDate yyyymmdd), ServiceName and the
`service` tag (TagKey/TagValue columns; untagged rows carry empty strings). A throttled call
answers 429 with several x-ms-ratelimit-*-retry-after headers of different lengths. Besides its
own fixed token it accepts any token a given issuer (the Entra ID emulator) gave out and that is
still live, and answers ExpiredAuthenticationToken for one past its expiry, as Azure does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from connectors.azure_cost import API_VERSION
from connectors.emulators.catalogue import history_start
from connectors.emulators.focus_demo import (
    AZURE_LINES,
    daily_cloud_costs,
    groups_between,
    merge_by_day,
)
from connectors.emulators.server import Call, EmulatorServer, Faults, Reply

DEMO_SCOPE = "subscriptions/00000000-0000-0000-0000-00000000demo"
DEMO_TOKEN = "demo-azure-token"
# App Service / Functions managed identity: IDENTITY_ENDPOINT answers tokens to callers that
# present IDENTITY_HEADER; azure-identity's DefaultAzureCredential reaches it over plain http.
IDENTITY_PATH = "/msi/token"
DEMO_IDENTITY_HEADER = "demo-identity-header"
TAG_KEY = "service"
MAX_DAYS = 366  # the service refuses custom periods longer than a year
_PATH = re.compile(r"^/(?P<scope>.+)/providers/Microsoft\.CostManagement/query$")
COLUMNS = [
    {"name": "PreTaxCost", "type": "Number"},
    {"name": "UsageDate", "type": "Number"},
    {"name": "ServiceName", "type": "String"},
    {"name": "TagKey", "type": "String"},
    {"name": "TagValue", "type": "String"},
    {"name": "Currency", "type": "String"},
]


class TokenIssuer(Protocol):
    """The token service whose bearer tokens the API also accepts (the Entra ID emulator)."""

    def standing(self, token: str) -> str: ...


def _error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}})


class CostManagementApi:
    """The Query operation for one scope over a fixed set of daily costs."""

    def __init__(
        self,
        as_of: datetime,
        scope: str = DEMO_SCOPE,
        token: str = DEMO_TOKEN,
        page_size: int = 40,
        issuer: TokenIssuer | None = None,
    ) -> None:
        self.scope = scope.strip("/")
        self.token = token
        self.issuer = issuer
        self.tokens_seen: list[str] = []  # the bearer token of every accepted query, in order
        self.page_size = page_size
        self.costs = merge_by_day(daily_cloud_costs(AZURE_LINES, as_of, "azure"))
        self.identity_header = DEMO_IDENTITY_HEADER
        self.tokens_issued = 0

    def ground_truth(self) -> dict[tuple[date, str, str | None], Decimal]:
        """What a complete load must hold: amount by (day, Azure service, service tag)."""
        return dict(self.costs)

    def throttled(self, retry_after: float) -> Reply:
        prefix = "x-ms-ratelimit-microsoft.costmanagement-"
        return Reply(
            429,
            {"error": {"code": "429", "message": "Too many requests. Please retry."}},
            {
                f"{prefix}qpu-retry-after": f"{retry_after:g}",
                f"{prefix}entity-retry-after": f"{retry_after * 2:g}",
                f"{prefix}tenant-retry-after": f"{retry_after / 2:g}",
            },
        )

    def issue_token(self, call: Call) -> Reply:
        """The managed identity token endpoint (api-version 2019-08-01)."""
        if call.headers.get("x-identity-header") != self.identity_header:
            return _error(401, "Unauthorized", "missing or wrong X-IDENTITY-HEADER")
        if not call.arg("resource"):
            return _error(400, "BadRequest", "resource is required")
        self.tokens_issued += 1
        return Reply(
            200,
            {
                "access_token": self.token,
                "expires_on": str(int(time.time()) + 3600),
                "resource": call.arg("resource"),
                "token_type": "Bearer",
                "client_id": "00000000-0000-0000-0000-0000000000id",
            },
        )

    def handle(self, call: Call) -> Reply:
        if call.method == "GET" and call.path == IDENTITY_PATH:
            return self.issue_token(call)
        match = _PATH.match(call.path)
        if call.method != "POST" or not match:
            return _error(404, "NotFound", f"{call.method} {call.path}")
        refused = self._refused_token(call.headers.get("authorization", ""))
        if refused:
            return refused
        if match["scope"].strip("/") != self.scope:
            return _error(403, "AuthorizationFailed", f"no access to scope {match['scope']}")
        if call.arg("api-version") != API_VERSION:
            return _error(400, "BadRequest", "unsupported api-version")
        body = call.json() or {}
        try:
            first = date.fromisoformat(body["timePeriod"]["from"][:10])
            last = date.fromisoformat(body["timePeriod"]["to"][:10])
        except (KeyError, TypeError, ValueError):
            return _error(400, "BadRequest", "timePeriod from/to required")
        if (last - first).days >= MAX_DAYS:
            return _error(
                400, "BadRequest", "The time period for pulling the data cannot exceed 1 year"
            )
        if (body.get("dataset") or {}).get("granularity") != "Daily":
            return _error(400, "BadRequest", "this emulator serves Daily granularity only")
        rows = self._rows(body, first, last)
        skip_token = call.arg("$skiptoken") or "0"
        if not skip_token.isdigit():
            return _error(400, "BadRequest", f"invalid $skiptoken {skip_token!r}")
        skip = int(skip_token)
        page = rows[skip : skip + self.page_size]
        next_link = None
        if skip + self.page_size < len(rows):
            next_link = (
                f"{call.base_url}{call.path}?api-version={API_VERSION}"
                f"&$skiptoken={quote(str(skip + self.page_size))}"
            )
        return Reply(
            200,
            {
                "id": f"/{self.scope}/providers/Microsoft.CostManagement/query/demo",
                "name": "demo",
                "type": "Microsoft.CostManagement/query",
                "properties": {"nextLink": next_link, "columns": COLUMNS, "rows": page},
            },
        )

    def _refused_token(self, authorization: str) -> Reply | None:
        """None for the fixed token or one the issuer gave out and is still live; else a 401."""
        scheme, _, token = authorization.partition(" ")
        standing = "unknown"
        if scheme == "Bearer" and token == self.token:
            standing = "valid"
        elif scheme == "Bearer" and self.issuer is not None:
            standing = self.issuer.standing(token)
        if standing == "expired":
            return _error(401, "ExpiredAuthenticationToken", "the access token has expired")
        if standing != "valid":
            return _error(401, "AuthenticationFailed", "invalid bearer token")
        self.tokens_seen.append(token)
        return None

    def _rows(self, body: dict, first: date, last: date) -> list[list]:
        grouping = (body.get("dataset") or {}).get("grouping") or []
        tag = next((g.get("name") for g in grouping if g.get("type") == "TagKey"), None)
        rows = []
        for day, service, business, amount in groups_between(
            self.costs, first, last + timedelta(days=1)
        ):
            tagged = tag == TAG_KEY and business
            rows.append(
                [
                    float(amount),
                    int(day.strftime("%Y%m%d")),
                    service,
                    tag if tagged else "",
                    business if tagged else "",
                    "USD",
                ]
            )
        return rows


def start_demo(as_of: datetime, workdir: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """Serve the demo's Azure spend (with 429 throttling) and return the connector's environment."""
    server = EmulatorServer(CostManagementApi(as_of), faults=Faults(throttle_every=11)).start()
    env = {
        "AZURE_COST_ENDPOINT_URL": server.url,
        "AZURE_COST_SCOPE": DEMO_SCOPE,
        "AZURE_ACCESS_TOKEN": DEMO_TOKEN,
        "AZURE_COST_START": history_start(as_of).date().isoformat(),
    }
    return env, server.stop
