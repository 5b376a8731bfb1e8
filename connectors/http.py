"""The one HTTP client every connector uses: timeouts, bounded retries with backoff, paging.

Sources differ in how they say "slow down" (429 + Retry-After, X-RateLimit-Reset, AWS's 400
LimitExceededException, Azure's per-scope retry headers) and in how they point to the next page
(offset, token, Link header, nextLink). Those differences are small functions passed in; the
retry loop and the paging loop exist once.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import requests

from connectors.secrets import MASK, MIN_SECRET_CHARS

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Client errors that may pass by themselves; every other 4xx repeats the same answer on retry.
_TRANSIENT_CLIENT_STATUSES = frozenset({408, 409, 425, 429})


class SourceError(RuntimeError):
    """A source could not be read; the message names the source, what was read and where."""


class PermanentSourceError(SourceError):
    """Retrying cannot help: configuration, credentials, a bad file or a schema mismatch.

    The message puts the cause first (source, what was wrong, what to do), because a person must
    act before the next run can succeed; transient trouble stays a plain SourceError.
    """


class RequestRefused(PermanentSourceError):
    """A 4xx answer a retry would repeat, with its status, for a connector that expects one."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 60.0  # of the exponential backoff
    jitter: float = 0.25  # +/- fraction of the computed delay
    # A server's own Retry-After is waited in full up to this: hourly rate limits (ServiceNow's)
    # ask for minutes, and asking again sooner only earns another 429.
    max_server_wait: float = 3600.0

    def delay(self, attempt: int, server_wait: float | None) -> float:
        """Seconds before attempt + 1: the jittered backoff, or longer if the server asks."""
        computed = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        computed *= 1 + random.uniform(-self.jitter, self.jitter)
        return max(computed, min(self.max_server_wait, server_wait or 0.0))


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    params: dict[str, Any] | None = None
    json: Any = None
    context: str = ""  # what is being read, for messages: "incident at offset 20000"

    def with_params(self, **changes: Any) -> Request:
        return replace(self, params={**(self.params or {}), **changes})


# The waits between retries, settable for a source that needs longer to heal (or a test that
# cannot wait): (default, ceiling) in seconds. A request's first retry waits
# SCORECARD_HTTP_RETRY_DELAY, doubling to RetryPolicy.max_delay; a source's read (the ingest step)
# is tried again SCORECARD_RETRY_DELAY after it gave up, then 3 and 7 times that.
HTTP_RETRY_DELAY = "SCORECARD_HTTP_RETRY_DELAY"
STEP_RETRY_DELAY = "SCORECARD_RETRY_DELAY"
RETRY_DELAYS = {STEP_RETRY_DELAY: (10.0, 600.0), HTTP_RETRY_DELAY: (0.5, 60.0)}


def retry_delay(env: Mapping[str, str], name: str) -> float:
    """Seconds from the environment variable `name` of RETRY_DELAYS, its default when unset."""
    default, ceiling = RETRY_DELAYS[name]
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= ceiling:  # also refuses nan and inf
        raise PermanentSourceError(
            f"{name}: {text!r} is not a number of seconds from 0 to {ceiling:g}"
        )
    return value


def with_retry_delay(policy: RetryPolicy, env: Mapping[str, str]) -> RetryPolicy:
    """`policy` with its first wait from SCORECARD_HTTP_RETRY_DELAY, when that is set."""
    if not env.get(HTTP_RETRY_DELAY, "").strip():
        return policy
    return replace(policy, base_delay=retry_delay(env, HTTP_RETRY_DELAY))


# (response) -> seconds to wait, or None when the response is not a throttle/transient error.
RetryAfter = Callable[[requests.Response], float | None]
# (request just sent, response, decoded body) -> the request for the next page, or None at the end.
NextPage = Callable[[Request, requests.Response, Any], Request | None]


def require_safe_url(url: str, source: str) -> str:
    """Refuse plain http unless it stays on this machine (tests and emulators), and a port that
    is no port, which would otherwise fail the first request with the whole URL in its error."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"{source}: {redact(url)!r} is not an http(s) URL")
    try:
        parts.port  # noqa: B018  (reading it validates it)
    except ValueError:
        split = "@" in url and "@" not in parts.netloc
        password = " (or a password in it holds an unencoded / ? or #)" if split else ""
        raise SourceError(
            f"{source}: {redact(url)!r} has a port that is not a number from 0 to 65535{password}"
        ) from None
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise SourceError(
            f"{source}: refusing plain-http URL {redact(url)}; use https (plain http is "
            "allowed only for loopback hosts such as local emulators)"
        )
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact(url: str) -> str:
    """Drop user:password@ from a URL before it reaches a log or an error (read from the text
    itself, so a URL whose port does not parse is redacted too)."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
    elif "@" in url.partition("://")[2] and _split_user_info(parts, url):
        # A password holding an unencoded / ? or # ends the authority early ("user:pa" as
        # host and port), and the rest of it reads as path, query or fragment up to the @.
        return f"{parts.scheme}://***@{url.rpartition('@')[2]}"
    return urlunsplit(parts)


def _split_user_info(parts: SplitResult, url: str) -> bool:
    """Whether the authority reads as "user:pa", the start of user info a delimiter cut short,
    rather than a host and port ("jira.corp:8443", "[::1]:8080", "localhost:8080") whose path or
    query holds an @ of its own (an e-mail address in a query).

    Told by what lies between the authority and the last @: the rest of a password is one piece
    ("/ss", "#Summer"); a path or query that reaches an @ has more ("/rest/user?name=jane")."""
    if ":" not in parts.netloc:
        return False
    try:
        parts.port  # noqa: B018  (reading it validates it)
    except ValueError:
        return True
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost":
            return False
    else:
        return False
    before_at = url.partition("://")[2][len(parts.netloc) :].rpartition("@")[0]
    return not any(mark in before_at[1:] for mark in "/?=&")


def standard_retry_after(response: requests.Response) -> float | None:
    """429/5xx are transient; wait what Retry-After or X-RateLimit-Reset says, if anything."""
    if response.status_code not in RETRY_STATUSES:
        return None
    return header_delay(response) or 0.0


def header_delay(response: requests.Response) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset (epoch s)."""
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(retry_after).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    reset = response.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            value = float(reset)
        except ValueError:
            return None
        # Epoch seconds when large, otherwise already a number of seconds.
        return max(0.0, value - time.time()) if value > 1e9 else max(0.0, value)
    return None


@dataclass
class HttpClient:
    """A requests.Session with the retry and paging behaviour every source needs."""

    source: str
    # Credentials ride in headers (bearer tokens) and auth: kept out of repr, hence tracebacks.
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    auth: tuple[str, str] | None = field(default=None, repr=False)
    timeout: tuple[float, float] = (10.0, 120.0)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    retry_after: RetryAfter = standard_retry_after
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    # Settings named when the source refuses the credentials (names only, never values): whose
    # credentials were sent ("SERVICENOW_USERNAME") and what to check ("SERVICENOW_PASSWORD").
    credentials_of: str = ""
    credentials_check: str = "the source's credentials"

    def __post_init__(self) -> None:
        self.session.headers.update({"Accept": "application/json", **self.headers})
        if self.auth:
            self.session.auth = self.auth

    def send(self, request: Request) -> requests.Response:
        """Send with retries; return the first non-retryable response, raise on exhaustion."""
        response, _ = self._exchange(request, decode=False)
        return response

    def fetch_json(self, request: Request) -> tuple[requests.Response, Any]:
        """Send and decode; an answer that is not whole JSON (a proxy cut it short) is asked
        again like a 503, from the same attempt budget, and after the last attempt fails the
        read, naming what was read."""
        return self._exchange(request, decode=True)

    def _exchange(self, request: Request, decode: bool) -> tuple[requests.Response, Any]:
        """One retry loop for every transient failure, so a read costs at most max_attempts
        requests whatever mix of drops, 429s, 5xx and cut-short answers it meets."""
        last_problem, answered = "", None
        for attempt in range(1, self.policy.max_attempts + 1):
            unsendable = None
            try:
                response = self.session.request(
                    request.method,
                    request.url,
                    params=request.params,
                    json=request.json,
                    timeout=self.timeout,
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                # The connection closed before the body's announced length arrived.
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                wait, answered = None, False
                last_problem = f"{type(exc).__name__}"
            except (requests.RequestException, ValueError) as exc:
                # A request that cannot be sent at all (a header value with a line break, a URL
                # that does not parse): no retry helps, and the library's message quotes the
                # header or URL, credentials and all, so only its type goes on (raised below,
                # outside this handler, so no traceback chains the original either).
                unsendable = type(exc).__name__
            else:
                answered = True
                wait = self.retry_after(response)
                if wait is not None:
                    last_problem = f"HTTP {response.status_code}"
                elif not decode:
                    return response, None
                elif response.status_code >= 400:
                    raise self._refusal(request, response)
                else:
                    try:
                        return response, decoded_json(response)
                    except ValueError:
                        last_problem = (
                            f"the answer was {len(response.content)} bytes that are not whole "
                            f"JSON, starting {without_credentials(response.text, response)[:120]!r}"
                        )
            if unsendable:
                raise PermanentSourceError(
                    f"{self.source}: the request for {request.context or redact(request.url)} "
                    f"could not be sent ({unsendable}); check {self.credentials_check} and the "
                    "source's URL for a stray character, such as a line break ending a token"
                )
            if attempt == self.policy.max_attempts:
                break
            delay = self.policy.delay(attempt, wait)
            log.warning(
                "%s: %s reading %s; retry %d/%d in %.1fs",
                self.source,
                last_problem.split(", starting")[0],
                request.context or redact(request.url),
                attempt,
                self.policy.max_attempts - 1,
                delay,
            )
            self.sleep(delay)
        # Unanswered: name the host (never the URL's credentials), the setting to check.
        host = urlsplit(redact(request.url)).netloc
        unanswered = f"; no answer from {host}" if answered is False else ""
        raise SourceError(
            f"{self.source}: gave up reading {request.context or redact(request.url)} after "
            f"{self.policy.max_attempts} attempts (last: {last_problem}){unanswered}"
        )

    def _refusal(self, request: Request, response: requests.Response) -> SourceError:
        """The error for a 4xx/5xx answer: permanent unless waiting could change the answer."""
        status = response.status_code
        answer = f"reading {request.context or redact(request.url)}: {_error_text(response)}"
        if status in (401, 403):
            cause = "authentication failed" if status == 401 else "access denied"
            whose = f" for {self.credentials_of}" if self.credentials_of else ""
            return RequestRefused(
                f"{self.source}: {cause} (HTTP {status}){whose}; check {self.credentials_check}. "
                f"The source answered, {answer}",
                status,
            )
        if 400 <= status < 500 and status not in _TRANSIENT_CLIENT_STATUSES:
            return RequestRefused(
                f"{self.source}: request refused (HTTP {status}); a retry gets the same answer: "
                f"check the source's URL and settings. The source answered, {answer}",
                status,
            )
        return SourceError(f"{self.source}: HTTP {status} {answer}")

    def paginate(self, first: Request, next_page: NextPage) -> Iterator[tuple[Request, Any]]:
        """Yield (request, decoded body) page by page until next_page says stop.

        Next-page URLs come from the server (Link headers, nextLink); the session sends its
        credentials with every request, so a page on another origin is refused, not followed.
        """
        for request, body, _, _ in self.paginate_answers(first, next_page):
            yield request, body

    def paginate_answers(
        self, first: Request, next_page: NextPage
    ) -> Iterator[tuple[Request, Any, str | None, requests.Response]]:
        """paginate, with each answer's text as decoded (None when its charset is unknown),
        for a source whose pages are ListedPage."""
        request: Request | None = first
        while request is not None:
            response, body = self.fetch_json(request)
            # requests decoded the body from this text when the charset is known; guessing
            # it again would cost more than the page.
            yield request, body, response.text if response.encoding else None, response
            request = next_page(request, response, body)
            if request is not None and _origin(request.url) != _origin(first.url):
                raise SourceError(
                    f"{self.source}: {first.context or redact(first.url)}: the next-page link "
                    f"points to another origin ({redact(request.url)}); refusing to send "
                    "credentials there"
                )


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def decoded_json(response: requests.Response) -> Any:
    """The answer's JSON, control characters inside strings allowed: ServiceNow and others send
    a description's raw tab or line break unescaped, and strict JSON would refuse the whole page
    for it (and refuse it again on every retry)."""
    if response.encoding is None or response.encoding.lower().replace("-", "") == "utf8":
        return json.loads(response.content, strict=False)  # detects UTF-8, -16 and -32 itself
    return json.loads(response.text, strict=False)


def _error_text(response: requests.Response) -> str:
    """The source's own error message, short, without the credentials the request carried (a
    gateway may quote the header it refused)."""
    try:
        body = decoded_json(response)
    except ValueError:
        text = response.text
    else:
        if isinstance(body, dict):
            body = body.get("error") or body.get("errorMessages") or body.get("message") or body
        text = str(body)
    return without_credentials(text, response)[:300]


def without_credentials(text: str, response: requests.Response) -> str:
    """`text` with the credentials of the request that `response` answers masked: its
    Authorization header whole, the token in it, and for Basic auth the encoded pair and the
    password (the user name too when the password is a placeholder, as an API key sent as the
    user name is). The environment's values are not enough: Basic auth encodes them, and a
    token a credential fetched (Azure's) is in no variable."""
    header = response.request.headers.get("Authorization", "") if response.request else ""
    scheme, _, credential = header.partition(" ")
    values = [header, credential]
    if scheme.lower() == "basic":
        try:
            pair = base64.b64decode(credential, validate=True).decode("latin-1")
        except (binascii.Error, ValueError):
            pair = ""
        user, _, password = pair.partition(":")
        values += [pair, password] + ([user] if len(password) < MIN_SECRET_CHARS else [])
    else:
        values.append(credential.rpartition("=")[2])  # PagerDuty's `Token token=...`
    for value in sorted({v for v in values if len(v) >= MIN_SECRET_CHARS}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def next_by_link_header(request: Request, response: requests.Response, body: Any) -> Request | None:
    """Follow RFC 8288 `Link: <...>; rel="next"` (Freshservice; ServiceNow offers it too)."""
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    return replace(request, url=urljoin(request.url, link), params=None)


def listed(source: str, body: Any, name: str, request: Request) -> list[dict[str, Any]]:
    """The answer's list called `name`, of records; an answer without it, or with an entry that
    is no record (null, text), is an error naming what was read and the entry's position."""
    records = body.get(name) if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise SourceError(
            f"{source}: {request.context or redact(request.url)}: answer has no {name} list: "
            f"{str(body)[:200]!r}"
        )
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise SourceError(
                f"{source}: {request.context or redact(request.url)}: entry {index} of the "
                f"answer's {name} list is no record (JSON object): {json.dumps(record)[:200]}"
            )
    return records


def read_ahead(pages: Iterator[T], name: str = "read-ahead") -> Iterator[T]:
    """The same pages, with the next one fetched while the caller stores this one.

    Waiting for the server and writing to the warehouse then overlap instead of adding up. At
    most one page waits in memory besides the one being stored; an error of the reader comes
    out where its page would have; when the caller stops early the reader stops after the request
    it is in (a page read but never stored is read again from the stored cursor next time).
    """
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not put(("page", page)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the caller, raised there
            put(("error", exc))

    reader = threading.Thread(target=read, name=name, daemon=True)
    reader.start()
    try:
        while True:
            kind, item = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
