"""AWS Cost Explorer GetCostAndUsage: daily cost by AWS service and one cost-allocation tag.

Cost Explorer restates recent days (estimates settle, credits and refunds arrive late), so every
run re-reads a trailing window before the stored cursor and each re-read day replaces that day
whole in raw.aws_ce_costs: a restated figure replaces the old one, and a service or tag group the
restatement dropped disappears. Days answered `Estimated` (the month's bill is not final) are
read again from the earliest of them, however far behind the trailing window, until Cost Explorer
answers them final, so a closed month ends on its final amounts.

Requests go through boto3's `ce` client, so credentials come from the standard AWS chain:
environment keys, shared profiles (AWS_PROFILE), SSO, assumed roles, web identity (EKS pods) and
instance or container metadata. AWS_CE_ENDPOINT_URL points the client elsewhere (the emulator).
Throttling (LimitExceededException), 5xx and dropped connections are retried here with our
RetryPolicy, so waits and log lines match every other source.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from connectors.base import Page, Record, Stream
from connectors.cost_allocation import Currency, TagKeys
from connectors.cost_window import (
    DEFAULT_LOOKBACK_DAYS,
    DailyCostSource,
    cost_cursor,
    cost_settings,
    summed_by_key,
)
from connectors.http import (
    PermanentSourceError,
    RetryPolicy,
    SourceError,
    require_safe_url,
)
from connectors.removals import WindowPage

log = logging.getLogger(__name__)

SOURCE = "aws_ce"
DEFAULT_ENDPOINT = "https://ce.us-east-1.amazonaws.com"
TARGET = "AWSInsightsIndexService.GetCostAndUsage"
THROTTLE_TYPES = frozenset({"LimitExceededException", "ThrottlingException"})
METRICS = ("UnblendedCost", "AmortizedCost")
CREDENTIALS_HINT = (
    "the AWS credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, "
    "an assumed role, or the instance/pod identity)"
)


def aws_retry_after(error: ClientError) -> float | None:
    """Seconds to wait before retrying, or None when retrying cannot help.

    AWS JSON APIs say "slow down" with HTTP 400 and a *LimitExceeded/Throttling __type; 429 and
    5xx are transient too.
    """
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    kind = str(error.response.get("Error", {}).get("Code", "")).rsplit("#", 1)[-1]
    if kind in THROTTLE_TYPES or status == 429 or status >= 500:
        headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        try:
            return max(0.0, float(headers.get("retry-after", 0)))
        except ValueError:
            return 0.0
    return None


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
        session: boto3.Session,
        region: str,
        tag_key: str = "service",
        lookback_days: int = DEFAULT_LOOKBACK_DAYS,
        start: date | None = None,
        tag_keys: TagKeys | None = None,
        policy: RetryPolicy | None = None,
        today: date | None = None,
        currency: Currency | None = None,
        until: date | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(tag_key, lookback_days, start, tag_keys, today, currency, until)
        self.endpoint = require_safe_url(endpoint, SOURCE)
        self.session = session
        self.region = region
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self._client: Any = None

    def __repr__(self) -> str:
        return f"CostExplorer(endpoint={self.endpoint!r}, region={self.region!r})"

    @property
    def client(self) -> Any:
        """The boto3 `ce` client, made on first use: retries are ours, so botocore makes one try."""
        if self._client is None:
            self._client = self.session.client(
                "ce",
                region_name=self.region,
                endpoint_url=self.endpoint,
                config=Config(
                    retries={"total_max_attempts": 1},
                    connect_timeout=10,
                    read_timeout=120,
                ),
            )
        return self._client

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        """One page per API page, each replacing whole days, in time order.

        A day's groups may continue on the next API page, so a page holds back its latest day
        until the next page (or the end) shows that day complete; each page replaces every day
        from where the page before it stopped, days without any group included. Groups of a day
        that make one key (a service and tag value answered twice) add up. A page's cursor is its
        latest complete day with costs, from which a resumed run reads lookback_days back, and
        the earliest day of this run still estimated, from which it reads if that is earlier.
        Days after the cursor's latest day are read again anyway, so a run stopped between pages
        leaves no estimate behind the window.
        """
        start, end = self.window(cursor)
        if start >= end:
            return
        query = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Metrics": list(METRICS),
            "GroupBy": [
                {"Type": "DIMENSION", "Key": "SERVICE"},
                {"Type": "TAG", "Key": self.tag_key},
            ],
        }
        context = f"GetCostAndUsage {start}..{end}"
        replaced_to = start.isoformat()
        held: list[Record] = []
        estimated_from: str | None = None
        answered = self._pages(query, context)
        answer = next(answered, None)
        while answer is not None:
            held += self._records(answer, context)
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
            if estimated_from is None:  # pages come in time order: the first one found is earliest
                estimated_from = min((r["date"] for r in complete if r["estimated"]), default=None)
            resume = cost_cursor(latest, estimated_from) if latest else None
            yield WindowPage(
                summed_by_key(complete, ("billed_cost", "effective_cost")),
                resume,
                window=(replaced_to, max(upto, replaced_to)),
            )
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

    def _pages(self, query: dict[str, Any], context: str) -> Iterator[dict[str, Any]]:
        """Repeat the identical query with the NextPageToken until none comes back."""
        token: str | None = None
        while True:
            body = self._call({**query, **({"NextPageToken": token} if token else {})}, context)
            yield body
            token = body.get("NextPageToken")
            if not token:
                return

    def _call(self, query: dict[str, Any], context: str) -> dict[str, Any]:
        """One GetCostAndUsage call with our retries; a refusal names the credential chain."""
        last_problem = ""
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                return self.client.get_cost_and_usage(**query)
            except (NoCredentialsError, PartialCredentialsError) as exc:
                raise PermanentSourceError(
                    f"{SOURCE}: no usable AWS credentials ({type(exc).__name__}); configure "
                    f"{CREDENTIALS_HINT}"
                ) from None
            except ClientError as exc:
                wait = aws_retry_after(exc)
                if wait is None:
                    raise _refusal(exc, context) from None
                last_problem = _describe(exc)
            except (BotoConnectionError, ReadTimeoutError) as exc:
                wait = None
                last_problem = type(exc).__name__
            except HTTPClientError as exc:
                # The HTTP library's own error, which for a header it cannot send (a line break
                # inside a key or session token) quotes the header, credential and all: only
                # its type goes on. A header that cannot be sent stays so on every retry.
                cause = exc.kwargs.get("error", exc)
                if isinstance(cause, ValueError):
                    raise PermanentSourceError(
                        f"{SOURCE}: the request for {context} could not be sent "
                        f"({type(cause).__name__}); check {CREDENTIALS_HINT} for a stray "
                        "character, such as a line break in a key or token"
                    ) from None
                raise SourceError(
                    f"{SOURCE}: reading {context}: the HTTP client failed ({type(cause).__name__})"
                ) from None
            except BotoCoreError as exc:
                raise SourceError(f"{SOURCE}: reading {context}: {exc}") from None
            if attempt == self.policy.max_attempts:
                break
            delay = self.policy.delay(attempt, wait)
            log.warning(
                "%s: %s reading %s; retry %d/%d in %.1fs",
                SOURCE,
                last_problem,
                context,
                attempt,
                self.policy.max_attempts - 1,
                delay,
            )
            self.sleep(delay)
        raise SourceError(
            f"{SOURCE}: gave up reading {context} after {self.policy.max_attempts} attempts "
            f"(last: {last_problem})"
        )


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _describe(error: ClientError) -> str:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    detail = error.response.get("Error", {})
    return f"HTTP {status} {detail.get('Code', '')}: {detail.get('Message', '')}"[:300]


def _refusal(error: ClientError, context: str) -> SourceError:
    """Permanent: a 4xx other than throttling repeats the same answer on retry."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if status in (401, 403):
        return PermanentSourceError(
            f"{SOURCE}: access denied (HTTP {status}); check {CREDENTIALS_HINT} and its "
            f"ce:GetCostAndUsage permission. The source answered, reading {context}: "
            f"{_describe(error)}"
        )
    return PermanentSourceError(
        f"{SOURCE}: request refused; a retry gets the same answer. The source answered, "
        f"reading {context}: {_describe(error)}"
    )


def from_env(env: Mapping[str, str]) -> CostExplorer:
    """AWS_CE_ENDPOINT_URL (default the public endpoint), the standard AWS credential variables
    (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE, ...), AWS_REGION,
    AWS_CE_TAG_KEY, AWS_CE_LOOKBACK_DAYS, AWS_CE_START. Credentials resolve on the first call."""
    # Stripped: a key read from a file or a CRLF env file ends in a line break, which the signed
    # headers cannot hold (and the HTTP library's error would quote them).
    key = env.get("AWS_ACCESS_KEY_ID", "").strip()
    secret = env.get("AWS_SECRET_ACCESS_KEY", "").strip()
    if bool(key) != bool(secret):
        missing = "AWS_SECRET_ACCESS_KEY" if key else "AWS_ACCESS_KEY_ID"
        raise SourceError(f"{SOURCE}: {missing} is not set (the other half of the key pair is)")
    endpoint = env.get("AWS_CE_ENDPOINT_URL") or DEFAULT_ENDPOINT
    region = region_of(endpoint, env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"))
    # Keys given in the environment mapping win; otherwise boto3 walks its chain.
    session = boto3.Session(
        aws_access_key_id=key or None,
        aws_secret_access_key=secret or None,
        aws_session_token=env.get("AWS_SESSION_TOKEN", "").strip() or None,
        profile_name=None if key else env.get("AWS_PROFILE") or None,
        region_name=region,
    )
    return CostExplorer(endpoint, session, region, **cost_settings(env, SOURCE, "AWS_CE"))
