"""AWS Cost Explorer GetCostAndUsage: daily cost by AWS service and one cost-allocation tag.

Cost Explorer restates recent days (estimates settle, credits and refunds arrive late), so every
run re-reads a trailing window before the stored cursor and each re-read day replaces that day
whole in raw.aws_ce_costs: a restated figure replaces the old one, and a service or tag group the
restatement dropped disappears. Requests are signed
with SigV4 (a few lines of hashlib/hmac, below) rather than pulling in boto3.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests

from connectors.base import Page, Record, Stream
from connectors.cost_window import (
    DEFAULT_LOOKBACK_DAYS,
    DailyCostSource,
    cost_settings,
)
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
from connectors.removals import WindowPage

SOURCE = "aws_ce"
DEFAULT_ENDPOINT = "https://ce.us-east-1.amazonaws.com"
TARGET = "AWSInsightsIndexService.GetCostAndUsage"
THROTTLE_TYPES = frozenset({"LimitExceededException", "ThrottlingException"})
METRICS = ("UnblendedCost", "AmortizedCost")


@dataclass(frozen=True)
class Credentials:
    """An AWS key pair; the secret and session token stay out of repr (and so of tracebacks)."""

    access_key: str
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


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


class CostExplorer(DailyCostSource):
    """Source: daily UnblendedCost/AmortizedCost by SERVICE and one TAG key."""

    name = SOURCE

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        region: str,
        tag_key: str = "service",
        lookback_days: int = DEFAULT_LOOKBACK_DAYS,
        start: date | None = None,
        tag_keys: TagKeys | None = None,
        policy: RetryPolicy | None = None,
        today: date | None = None,
    ) -> None:
        super().__init__(tag_key, lookback_days, start, tag_keys, today)
        self.endpoint = require_safe_url(endpoint, SOURCE)
        session = requests.Session()
        session.auth = SigV4Auth(credentials, region)
        self.client = HttpClient(
            SOURCE,
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET},
            policy=policy or RetryPolicy(),
            retry_after=aws_retry_after,
            session=session,
        )

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        """One page per API page, each replacing whole days, in time order.

        A day's groups may continue on the next API page, so a page holds back its latest day
        until the next page (or the end) shows that day complete; each page replaces every day
        from where the page before it stopped, days without any group included. Its cursor is
        its latest complete day with costs, from which a resumed run reads lookback_days back.
        """
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
        replaced_to = start.isoformat()
        held: list[Record] = []
        answered = self.client.paginate(first, next_by_token)
        answer = next(answered, None)
        while answer is not None:
            request, body = answer
            held += self._records(body, request.context)
            answer = next(answered, None)
            # The last page completes every day; before it, the latest day may go on.
            upto = (
                end.isoformat()
                if answer is None
                else max((r["date"] for r in held), default=replaced_to)
            )
            complete = [r for r in held if r["date"] < upto]
            held = [r for r in held if r["date"] >= upto]
            latest = max((r["date"] for r in complete), default=None)
            yield WindowPage(complete, latest, window=(replaced_to, max(upto, replaced_to)))
            replaced_to = max(upto, replaced_to)

    def _records(self, body: dict[str, Any], context: str) -> Iterator[Record]:
        for index, result in enumerate(body.get("ResultsByTime") or []):
            day = (result.get("TimePeriod") or {}).get("Start")
            if not isinstance(day, str) or not _is_day(day):
                raise SourceError(
                    f"{SOURCE}: {context}: ResultsByTime[{index}] field TimePeriod.Start is "
                    f"{day!r}, expected YYYY-MM-DD"
                )
            for group in result.get("Groups") or []:
                keys = group.get("Keys") or []
                if len(keys) != 2:
                    raise SourceError(
                        f"{SOURCE}: {context}: group on {day} field Keys is {keys!r}, expected "
                        "[SERVICE, TAG]"
                    )
                service, tag = keys
                _, _, tag_value = tag.partition("$")
                metrics = group.get("Metrics") or {}
                billed = metrics.get("UnblendedCost") or {}
                effective = metrics.get("AmortizedCost") or billed
                yield {
                    **self.keyed(day, service, tag_value),
                    "aws_service": service,
                    "billed_cost": billed.get("Amount"),
                    "effective_cost": effective.get("Amount"),
                    "currency": billed.get("Unit"),
                    "estimated": bool(result.get("Estimated")),
                }


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def from_env(env: Mapping[str, str]) -> CostExplorer:
    """AWS_CE_ENDPOINT_URL (default the public endpoint), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    optional AWS_SESSION_TOKEN, AWS_REGION, AWS_CE_TAG_KEY, AWS_CE_LOOKBACK_DAYS, AWS_CE_START."""
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        if not env.get(variable):
            raise SourceError(f"{SOURCE}: {variable} is not set")
    endpoint = env.get("AWS_CE_ENDPOINT_URL") or DEFAULT_ENDPOINT
    return CostExplorer(
        endpoint,
        Credentials(
            env["AWS_ACCESS_KEY_ID"],
            env["AWS_SECRET_ACCESS_KEY"],
            env.get("AWS_SESSION_TOKEN") or None,
        ),
        region_of(endpoint, env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")),
        **cost_settings(env, SOURCE, "AWS_CE"),
    )
