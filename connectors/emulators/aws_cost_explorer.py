"""AWS Cost Explorer GetCostAndUsage emulator: SigV4-checked, token-paged, throttled with 400.

Serves the demo organisation's AWS spend by day, SERVICE and the `service` cost-allocation tag.
Pages hold a fixed number of groups, so a day can be split across pages as real responses are.
Days from `estimated_from` on are answered `Estimated: true`, as AWS does until a month's bill is
final; a test restates `costs` and moves `estimated_from` on to settle them.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from connectors.aws_cost_explorer import TARGET
from connectors.emulators.catalogue import history_start
from connectors.emulators.focus_demo import (
    AWS_LINES,
    daily_cloud_costs,
    groups_between,
    merge_by_day,
)
from connectors.emulators.server import Call, EmulatorServer, Faults, Reply
from connectors.emulators.sigv4 import Credentials, sigv4_headers

DEMO_ACCESS_KEY = "AKIDEMOSCORECARD"
DEMO_SECRET_KEY = "demo-secret-key-not-a-real-one"
TAG_KEY = "service"
_AUTH = re.compile(
    r"Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+)"
)


def _error(kind: str, message: str, status: int = 400) -> Reply:
    return Reply(status, {"__type": kind, "message": message})


class CostExplorerApi:
    """The GetCostAndUsage operation over a fixed set of daily costs."""

    def __init__(
        self,
        as_of: datetime,
        access_key: str = DEMO_ACCESS_KEY,
        secret_key: str = DEMO_SECRET_KEY,
        page_size: int = 250,
        estimated_from: date | None = None,
    ) -> None:
        self.credentials = Credentials(access_key, secret_key)
        self.page_size = page_size
        self.costs = merge_by_day(daily_cloud_costs(AWS_LINES, as_of, "aws"))
        self.estimated_from = estimated_from
        self.calls = 0
        self.periods: list[tuple[date, date]] = []  # TimePeriod of every query's first page

    def ground_truth(self) -> dict[tuple[date, str, str | None], Decimal]:
        """What a complete load must hold: amount by (day, AWS service, service tag)."""
        return dict(self.costs)

    def throttled(self, retry_after: float) -> Reply:
        return _error("LimitExceededException", "Rate exceeded")

    def handle(self, call: Call) -> Reply:
        if call.method != "POST" or call.path != "/":
            return _error("UnknownOperationException", f"{call.method} {call.path}", 404)
        if call.headers.get("x-amz-target") != TARGET:
            return _error("UnknownOperationException", "unknown X-Amz-Target")
        problem = self._authenticate(call)
        if problem:
            return _error("InvalidSignatureException", problem, 403)
        self.calls += 1
        body = call.json() or {}
        try:
            start = date.fromisoformat(body["TimePeriod"]["Start"])
            end = date.fromisoformat(body["TimePeriod"]["End"])
        except (KeyError, TypeError, ValueError):
            return _error("ValidationException", "TimePeriod Start/End must be yyyy-MM-dd")
        if body.get("Granularity") != "DAILY" or start >= end:
            return _error("ValidationException", "expected DAILY granularity and Start < End")
        groups = self._groups(body, start, end)
        if not body.get("NextPageToken"):
            self.periods.append((start, end))
        offset = 0
        if body.get("NextPageToken"):
            offset = self._offset(body)
            if offset is None:
                return _error("ValidationException", "NextPageToken does not match the query")
        page = groups[offset : offset + self.page_size]
        reply: dict = {
            "GroupDefinitions": body.get("GroupBy", []),
            "ResultsByTime": self._results(page, body.get("Metrics") or ["UnblendedCost"]),
            "DimensionValueAttributes": [],
        }
        if offset + self.page_size < len(groups):
            reply["NextPageToken"] = self._token(body, offset + self.page_size)
        return Reply(200, reply)

    def _authenticate(self, call: Call) -> str | None:
        header = call.headers.get("authorization", "")
        match = _AUTH.search(header)
        if not match:
            return "missing or malformed SigV4 Authorization header"
        access_key, _, region, service, names = match.groups()
        if access_key != self.credentials.access_key or service != "ce":
            return "unknown access key or service"
        signed = {n: call.headers.get(n, "") for n in names.split(";")}
        try:
            stamp = datetime.strptime(signed.pop("x-amz-date", ""), "%Y%m%dT%H%M%SZ")
        except ValueError:
            return "missing or malformed X-Amz-Date"
        token = signed.pop("x-amz-security-token", None)
        signed.pop("host", None)
        expected = sigv4_headers(
            call.method,
            call.base_url + call.path,
            signed,
            call.body,
            replace(self.credentials, session_token=token),
            region,
            service,
            stamp.replace(tzinfo=UTC),
        )
        if expected["Authorization"] != header:
            return "The request signature we calculated does not match the signature you provided"
        return None

    def _groups(self, body: dict, start: date, end: date) -> list[tuple[date, str, str, Decimal]]:
        group_by = body.get("GroupBy") or []
        tag = next((g["Key"] for g in group_by if g.get("Type") == "TAG"), None)
        return [
            (day, service, f"{tag}${business if tag == TAG_KEY and business else ''}", amount)
            for day, service, business, amount in groups_between(self.costs, start, end)
        ]

    def _results(self, page: list, metrics: list[str]) -> list[dict]:
        results: list[dict] = []
        for day, service, tag, amount in page:
            if not results or results[-1]["TimePeriod"]["Start"] != day.isoformat():
                results.append(
                    {
                        "TimePeriod": {
                            "Start": day.isoformat(),
                            "End": (day + timedelta(days=1)).isoformat(),
                        },
                        "Total": {},
                        "Groups": [],
                        "Estimated": self.estimated_from is not None and day >= self.estimated_from,
                    }
                )
            results[-1]["Groups"].append(
                {
                    "Keys": [service, tag],
                    "Metrics": {m: {"Amount": str(amount), "Unit": "USD"} for m in metrics},
                }
            )
        return results

    @staticmethod
    def _query_id(body: dict) -> str:
        query = {k: v for k, v in body.items() if k != "NextPageToken"}
        return json.dumps(query, sort_keys=True)

    def _token(self, body: dict, offset: int) -> str:
        payload = json.dumps([offset, self._query_id(body)])
        return base64.urlsafe_b64encode(payload.encode()).decode()

    def _offset(self, body: dict) -> int | None:
        try:
            offset, query = json.loads(base64.urlsafe_b64decode(body["NextPageToken"]))
        except (ValueError, TypeError):
            return None
        return offset if query == self._query_id(body) else None


def start_demo(as_of: datetime, workdir: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """Serve the demo's AWS spend (with throttling) and return the connector's environment."""
    server = EmulatorServer(CostExplorerApi(as_of), faults=Faults(throttle_every=9)).start()
    env = {
        "AWS_CE_ENDPOINT_URL": server.url,
        "AWS_ACCESS_KEY_ID": DEMO_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DEMO_SECRET_KEY,
        "AWS_REGION": "us-east-1",
        "AWS_CE_START": history_start(as_of).date().isoformat(),
    }
    return env, server.stop
