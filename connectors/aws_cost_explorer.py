"""AWS Cost Explorer GetCostAndUsage: daily cost by AWS service and one cost-allocation tag.

Cost Explorer restates recent days (estimates settle, credits and refunds arrive late), so every
run re-reads a trailing window before the stored cursor; records are keyed by day, service and
tag value, so a restated figure replaces the old one in raw.aws_ce_costs. Requests are signed
with SigV4 (a few lines of hashlib/hmac, below) rather than pulling in boto3.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests

from connectors.base import Page, Record, Stream
from connectors.cost_window import restated_window
from connectors.focus import TagKeys
from connectors.http import (
    HttpClient,
    Request,
    RetryPolicy,
    SourceError,
    header_delay,
    require_safe_url,
    standard_retry_after,
)

SOURCE = "aws_ce"
DEFAULT_ENDPOINT = "https://ce.us-east-1.amazonaws.com"
TARGET = "AWSInsightsIndexService.GetCostAndUsage"
THROTTLE_TYPES = frozenset({"LimitExceededException", "ThrottlingException"})
METRICS = ("UnblendedCost", "AmortizedCost")
COSTS = Stream("costs", primary_key="key", cursor_field="date")


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    session_token: str | None = None

    def __repr__(self) -> str:  # never print a secret, even in a traceback
        return f"Credentials(access_key={self.access_key[:4]}...)"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_headers(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str,
    now: datetime,
) -> dict[str, str]:
    """The X-Amz-Date, X-Amz-Security-Token and Authorization headers of AWS Signature V4."""
    parts = urlsplit(url)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    signed["host"] = parts.netloc
    signed["x-amz-date"] = stamp
    if credentials.session_token:
        signed["x-amz-security-token"] = credentials.session_token
    names = sorted(signed)
    query_pairs = sorted(
        (quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
        for k, _, v in (p.partition("=") for p in parts.query.split("&") if p)
    )
    canonical = "\n".join(
        [
            method.upper(),
            quote(parts.path or "/", safe="/-_.~"),
            "&".join(f"{k}={v}" for k, v in query_pairs),
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(("AWS4" + credentials.secret_key).encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    result = {
        "X-Amz-Date": stamp,
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        ),
    }
    if credentials.session_token:
        result["X-Amz-Security-Token"] = credentials.session_token
    return result


class SigV4Auth(requests.auth.AuthBase):
    """Signs each prepared request (again on every retry, so X-Amz-Date stays fresh)."""

    SIGNED = ("content-type", "x-amz-target")

    def __init__(self, credentials: Credentials, region: str, service: str = "ce") -> None:
        self.credentials = credentials
        self.region = region
        self.service = service

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        headers = {k: v for k, v in r.headers.items() if k.lower() in self.SIGNED}
        r.headers.update(
            sigv4_headers(
                r.method or "POST",
                r.url or "",
                headers,
                body,
                self.credentials,
                self.region,
                self.service,
                datetime.now(UTC),
            )
        )
        return r


def aws_retry_after(response: requests.Response) -> float | None:
    """AWS JSON APIs say "slow down" with HTTP 400 and a *LimitExceeded/Throttling __type."""
    if response.status_code == 400:
        try:
            kind = str(response.json().get("__type", ""))
        except (ValueError, AttributeError):
            kind = ""
        if kind.rsplit("#", 1)[-1] in THROTTLE_TYPES:
            return header_delay(response) or 0.0
        return None
    return standard_retry_after(response)


def next_by_token(request: Request, response: requests.Response, body: Any) -> Request | None:
    """Repeat the identical query with the NextPageToken until none comes back."""
    token = body.get("NextPageToken") if isinstance(body, dict) else None
    if not token:
        return None
    return replace(request, json={**request.json, "NextPageToken": token})


def region_of(endpoint: str, fallback: str | None) -> str:
    """Cost Explorer signs with the region in its host (ce.us-east-1...), else AWS_REGION."""
    host = urlsplit(endpoint).hostname or ""
    labels = host.split(".")
    if len(labels) > 2 and labels[0] == "ce" and host.endswith(".amazonaws.com"):
        return labels[1]
    return fallback or "us-east-1"


class CostExplorer:
    """Source: daily UnblendedCost/AmortizedCost by SERVICE and one TAG key."""

    name = SOURCE

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        region: str,
        tag_key: str = "service",
        lookback_days: int = 5,
        start: date | None = None,
        tag_keys: TagKeys | None = None,
        policy: RetryPolicy | None = None,
        today: date | None = None,
    ) -> None:
        self.endpoint = require_safe_url(endpoint, SOURCE)
        self.tag_key = tag_key
        self.lookback_days = lookback_days
        self.today = today
        self.start = start
        self.allocation = (tag_keys or TagKeys()).role_of(tag_key)
        session = requests.Session()
        session.auth = SigV4Auth(credentials, region)
        self.client = HttpClient(
            SOURCE,
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET},
            policy=policy or RetryPolicy(),
            retry_after=aws_retry_after,
            session=session,
        )

    def streams(self) -> list[Stream]:
        return [COSTS]

    def window(self, cursor: str | None) -> tuple[date, date]:
        return restated_window(cursor, self.lookback_days, self.start, self.today)

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        start, end = self.window(cursor)
        if start >= end:
            return
        first = Request(
            "POST",
            self.endpoint + "/",
            json={
                "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
                "Granularity": "DAILY",
                "Metrics": list(METRICS),
                "GroupBy": [
                    {"Type": "DIMENSION", "Key": "SERVICE"},
                    {"Type": "TAG", "Key": self.tag_key},
                ],
            },
            context=f"GetCostAndUsage {start}..{end}",
        )
        for _, body in self.client.paginate(first, next_by_token):
            records = list(self._records(body))
            latest = max((r["date"] for r in records), default=cursor)
            yield Page(records, latest)

    def _records(self, body: dict[str, Any]) -> Iterator[Record]:
        for result in body.get("ResultsByTime") or []:
            day = result["TimePeriod"]["Start"]
            for group in result.get("Groups") or []:
                keys = group.get("Keys") or []
                if len(keys) != 2:
                    raise SourceError(f"{SOURCE}: group on {day} has keys {keys!r}, expected 2")
                service, tag = keys
                _, _, tag_value = tag.partition("$")
                metrics = group.get("Metrics") or {}
                billed = metrics.get("UnblendedCost") or {}
                effective = metrics.get("AmortizedCost") or billed
                yield {
                    "key": f"{day}|{service}|{tag_value}",
                    "date": day,
                    "aws_service": service,
                    "tag_key": self.tag_key,
                    "tag_value": tag_value or None,
                    "allocation": self.allocation,
                    "billed_cost": billed.get("Amount"),
                    "effective_cost": effective.get("Amount"),
                    "currency": billed.get("Unit"),
                    "estimated": bool(result.get("Estimated")),
                }


def from_env(env: Mapping[str, str]) -> CostExplorer:
    """AWS_CE_ENDPOINT_URL (default the public endpoint), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    optional AWS_SESSION_TOKEN, AWS_REGION, AWS_CE_TAG_KEY, AWS_CE_LOOKBACK_DAYS, AWS_CE_START."""
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        if not env.get(variable):
            raise SourceError(f"{SOURCE}: {variable} is not set")
    endpoint = env.get("AWS_CE_ENDPOINT_URL") or DEFAULT_ENDPOINT
    start = env.get("AWS_CE_START")
    try:
        return CostExplorer(
            endpoint,
            Credentials(
                env["AWS_ACCESS_KEY_ID"],
                env["AWS_SECRET_ACCESS_KEY"],
                env.get("AWS_SESSION_TOKEN") or None,
            ),
            region_of(endpoint, env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")),
            tag_key=env.get("AWS_CE_TAG_KEY") or "service",
            lookback_days=int(env.get("AWS_CE_LOOKBACK_DAYS") or 5),
            start=date.fromisoformat(start) if start else None,
            tag_keys=TagKeys.from_env(env),
        )
    except ValueError as exc:
        raise SourceError(f"{SOURCE}: bad AWS_CE_LOOKBACK_DAYS or AWS_CE_START: {exc}") from exc
