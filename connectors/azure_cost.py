"""Azure Cost Management Query: daily ActualCost by ServiceName and one tag, month by month.

The API answers a table (columns + rows) and pages with nextLink; a query may span at most a
year, so the window is read one calendar month at a time and the cursor moves after each month.
Azure restates recent days, so each run starts a trailing window before the stored cursor, and
each month read replaces its days whole: a restated figure replaces the old one, and a service or
tag value the restatement dropped disappears. Rows come in no promised order, so a month's pages
are gathered before they land (a month of daily groups is small).

Tokens come from azure-identity's DefaultAzureCredential (service principal variables
AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, workload identity, managed identity, Azure
CLI), asked for on every request, page and retry: the credential answers from its cache and
renews a token near its expiry, so no run holds a token past its life, however long it pages.
AZURE_ACCESS_TOKEN, when set, overrides the chain (it expires within about an hour, so it suits a
one-off run, not a schedule). A private cloud's authority (AZURE_AUTHORITY_HOST) that Microsoft's
instance discovery does not know needs AZURE_COST_DISABLE_INSTANCE_DISCOVERY=true.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, Protocol

import requests
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

from connectors.base import Page, Record, Stream
from connectors.cost_allocation import Currency, TagKeys
from connectors.cost_window import (
    DEFAULT_LOOKBACK_DAYS,
    DailyCostSource,
    cost_settings,
    summed_by_key,
)
from connectors.http import (
    HttpClient,
    PermanentSourceError,
    Request,
    RetryPolicy,
    SourceError,
    require_safe_url,
    standard_retry_after,
)
from connectors.removals import WindowPage

SOURCE = "azure_cost"
DEFAULT_ENDPOINT = "https://management.azure.com"
API_VERSION = "2023-03-01"
RETRY_HEADER_PREFIX = "x-ms-ratelimit-microsoft.costmanagement-"
# Azure finalises a month in the days after it closes (corrections and credits for days read
# long before): during the first days of a month the whole month before is read again.
MONTH_CLOSE_DAYS = 10
# Tokens are for Azure Resource Manager, wherever AZURE_COST_ENDPOINT_URL points.
TOKEN_SCOPE = "https://management.azure.com/.default"
CREDENTIALS_HINT = (
    "AZURE_ACCESS_TOKEN, or a DefaultAzureCredential identity: AZURE_TENANT_ID/AZURE_CLIENT_ID/"
    "AZURE_CLIENT_SECRET, workload identity, managed identity or `az login`"
)


class TokenCredential(Protocol):
    """What azure-identity credentials offer (DefaultAzureCredential and the rest)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken: ...


class CredentialAuth(requests.auth.AuthBase):
    """Bearer token from the credential on each request, so paging outlives any one token.

    A credential that cannot sign in is a PermanentSourceError naming the source and what to
    configure; azure-identity's messages name variables, never their values.
    """

    def __init__(self, credential: TokenCredential) -> None:
        self.credential = credential

    def __repr__(self) -> str:
        return f"CredentialAuth({type(self.credential).__name__})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        try:
            token = self.credential.get_token(TOKEN_SCOPE).token
        except ClientAuthenticationError as exc:
            private_cloud = ""
            # azure-identity reads the authority from os.environ, so the hint looks there too.
            if os.environ.get("AZURE_AUTHORITY_HOST"):
                private_cloud = (
                    "; an AZURE_AUTHORITY_HOST unknown to Microsoft's instance discovery also "
                    "needs AZURE_COST_DISABLE_INSTANCE_DISCOVERY=true"
                )
            raise PermanentSourceError(
                f"{SOURCE}: no Azure token ({sign_in_problem(exc)}); check {CREDENTIALS_HINT}"
                f"{private_cloud}"
            ) from None
        request.headers["Authorization"] = f"Bearer {token}"
        return request


def sign_in_problem(exc: ClientAuthenticationError) -> str:
    """The chain's summary plus the credential that failed: Entra's AADSTS line says why."""
    lines = [line.strip() for line in str(exc.message or exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    failed = [
        line
        for line in lines[1:]
        if line.split(" ", 1)[0].endswith("Credential:") and "unavailable" not in line.lower()
    ]
    return " ".join(lines[:1] + failed[-1:])[:400]


class FixedToken:
    """AZURE_ACCESS_TOKEN as a credential; the token stays out of repr (and so of tracebacks)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "FixedToken(...)"

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)


def azure_retry_after(response: requests.Response) -> float | None:
    """Cost Management sends one retry-after header per quota (qpu, entity, tenant): obey the
    largest, since waiting less than any of them earns another 429."""
    waits = []
    for name, value in response.headers.items():
        lowered = name.lower()
        if lowered.startswith(RETRY_HEADER_PREFIX) and lowered.endswith("-retry-after"):
            try:
                waits.append(float(value))
            except ValueError:
                continue
    if response.status_code == 429 and waits:
        return max(waits)
    return standard_retry_after(response)


def next_by_link(request: Request, response: requests.Response, body: Any) -> Request | None:
    """POST the same body to properties.nextLink until it is null."""
    link = (body.get("properties") or {}).get("nextLink") if isinstance(body, dict) else None
    if not link:
        return None
    return replace(request, url=require_safe_url(link, SOURCE), params=None)


def month_windows(start: date, end: date) -> Iterator[tuple[date, date]]:
    """[start, end) cut at month boundaries, as inclusive (first, last) day pairs."""
    first = start
    while first < end:
        next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = min(next_month, end) - timedelta(days=1)
        yield first, last
        first = last + timedelta(days=1)


class CostManagement(DailyCostSource):
    """Source: Cost Management Query for one scope (subscription, resource group, account)."""

    name = SOURCE

    def __init__(
        self,
        endpoint: str,
        scope: str,
        credential: TokenCredential | str,
        tag_key: str = "service",
        lookback_days: int = DEFAULT_LOOKBACK_DAYS,
        start: date | None = None,
        tag_keys: TagKeys | None = None,
        policy: RetryPolicy | None = None,
        today: date | None = None,
        currency: Currency | None = None,
        until: date | None = None,
    ) -> None:
        super().__init__(tag_key, lookback_days, start, tag_keys, today, currency, until)
        self.url = (
            f"{require_safe_url(endpoint, SOURCE)}/{scope.strip('/')}"
            "/providers/Microsoft.CostManagement/query"
        )
        self.credential = FixedToken(credential) if isinstance(credential, str) else credential
        self.client = HttpClient(
            SOURCE,
            headers={"Content-Type": "application/json"},
            policy=policy or RetryPolicy(),
            retry_after=azure_retry_after,
            credentials_of="AZURE_COST_SCOPE",
            credentials_check=CREDENTIALS_HINT,
        )

        self.client.session.auth = CredentialAuth(self.credential)

    def window(self, cursor: str | None) -> tuple[date, date]:
        first, end = super().window(cursor)
        if cursor and end.day <= MONTH_CLOSE_DAYS:
            month_before = (end.replace(day=1) - timedelta(days=1)).replace(day=1)
            first = min(first, month_before)
        return first, end

    def read(self, stream: Stream, cursor: str | None) -> Iterator[Page]:
        """Per month: the actual cost (what is invoiced: a reservation bought up front on its
        day) and the amortised cost (spread over the days it covers), one record per key with
        both amounts, each the sum of the rows its query answered for the key; a key only one of
        them answers has 0 in the other."""
        for first, last in month_windows(*self.window(cursor)):
            month: dict[str, Record] = {}
            for cost_type, field in (("ActualCost", "cost"), ("AmortizedCost", "amortized_cost")):
                request = Request(
                    "POST",
                    self.url,
                    params={"api-version": API_VERSION},
                    json=self._query(cost_type, first, last),
                    context=f"{cost_type} query {first}..{last}",
                )
                answered = (
                    record
                    for page_request, body in self.client.paginate(request, next_by_link)
                    for record in self._records(body, page_request.context)
                )
                for record in summed_by_key(answered, ("cost",)):
                    amount = record.pop("cost")
                    merged = month.setdefault(
                        record["key"], {**record, "cost": "0", "amortized_cost": "0"}
                    )
                    merged[field] = amount
            yield WindowPage(
                list(month.values()),
                last.isoformat(),
                window=(first.isoformat(), (last + timedelta(days=1)).isoformat()),
            )

    def _query(self, cost_type: str, first: date, last: date) -> dict[str, Any]:
        return {
            "type": cost_type,
            "timeframe": "Custom",
            "timePeriod": {"from": f"{first}T00:00:00Z", "to": f"{last}T23:59:59Z"},
            "dataset": {
                "granularity": "Daily",
                "aggregation": {"totalCost": {"name": "PreTaxCost", "function": "Sum"}},
                "grouping": [
                    {"type": "Dimension", "name": "ServiceName"},
                    {"type": "TagKey", "name": self.tag_key},
                ],
            },
        }

    def _records(self, body: dict[str, Any], context: str) -> Iterator[Record]:
        properties = body.get("properties") or {}
        names = [c.get("name") for c in properties.get("columns") or []]
        needed = ("PreTaxCost", "UsageDate", "ServiceName", "Currency")
        missing = [n for n in needed if n not in names]
        if missing:
            raise SourceError(
                f"{SOURCE}: {context}: query result lacks column(s) {missing}; got {names}"
            )
        for index, row in enumerate(properties.get("rows") or []):
            cell = dict(zip(names, row, strict=False))
            usage = str(cell.get("UsageDate"))
            try:
                day = date(int(usage[:4]), int(usage[4:6]), int(usage[6:8])).isoformat()
            except ValueError as exc:
                raise SourceError(
                    f"{SOURCE}: {context}: row {index} ({cell.get('ServiceName')!r}) field "
                    f"UsageDate is {usage!r}, expected yyyymmdd"
                ) from exc
            # A billing account or profile that bills in several currencies answers a row per
            # currency for the same day, service and tag: the currency is part of the key.
            currency = str(cell.get("Currency") or "").upper()
            yield {
                **self.keyed(day, cell.get("ServiceName"), cell.get("TagValue"), currency),
                "azure_service": cell.get("ServiceName"),
                "cost": str(cell.get("PreTaxCost")),
                "currency": cell.get("Currency"),
            }


def credential_from_env(env: Mapping[str, str]) -> TokenCredential:
    """AZURE_ACCESS_TOKEN when set, else DefaultAzureCredential (which reads os.environ itself).

    Interactive browser sign-in is excluded: a nightly run has nobody to click. MSAL checks an
    authority host it does not know with login.microsoftonline.com; a private cloud (Azure Stack
    Hub, a disconnected or sovereign authority) turns that off with
    AZURE_COST_DISABLE_INSTANCE_DISCOVERY, as azure-identity has no variable of its own for it.
    """
    # Stripped as every source's token is: a token read from a file or a CRLF env file ends in a
    # line break, which no header may hold.
    if token := env.get("AZURE_ACCESS_TOKEN", "").strip():
        return FixedToken(token)
    from azure.identity import DefaultAzureCredential

    options: dict[str, Any] = {"exclude_interactive_browser_credential": True}
    if _switch(env, "AZURE_COST_DISABLE_INSTANCE_DISCOVERY"):
        options["disable_instance_discovery"] = True
    try:
        return DefaultAzureCredential(**options)
    except ValueError as exc:
        # e.g. AZURE_AUTHORITY_HOST not https: azure-identity refuses any plain-http authority.
        raise SourceError(f"{SOURCE}: Azure credential settings refused: {exc}") from None


def _switch(env: Mapping[str, str], name: str) -> bool:
    text = env.get(name, "").strip().lower()
    if text not in ("", "true", "false", "1", "0", "yes", "no"):
        raise SourceError(f"{SOURCE}: {name}={text!r} must be true or false")
    return text in ("true", "1", "yes")


def from_env(env: Mapping[str, str]) -> CostManagement:
    """AZURE_COST_SCOPE, optional AZURE_ACCESS_TOKEN (else DefaultAzureCredential),
    AZURE_COST_ENDPOINT_URL, AZURE_COST_TAG_KEY, AZURE_COST_LOOKBACK_DAYS, AZURE_COST_START,
    AZURE_COST_DISABLE_INSTANCE_DISCOVERY."""
    if not env.get("AZURE_COST_SCOPE"):
        raise SourceError(f"{SOURCE}: AZURE_COST_SCOPE is not set")
    return CostManagement(
        env.get("AZURE_COST_ENDPOINT_URL") or DEFAULT_ENDPOINT,
        env["AZURE_COST_SCOPE"],
        credential_from_env(env),
        **cost_settings(env, SOURCE, "AZURE_COST"),
    )
