"""One small HTTP server core shared by every API emulator, with fault injection.

An emulator module only says how its API answers a call (`Api.handle`) and how it says "slow
down"; this module serves it over real HTTP on loopback and injects the faults that connectors
must survive: throttling, 5xx (or 401/403: a credential that expires), slow answers, dropped
connections, bodies cut short (truncated JSON) and hostile records (`rewrite`), from a given
request on (`start_after`: earlier pages are served whole). An API may also say how
its injected 5xx looks (`unavailable(status)`) and keep its own clock for the Date header
(`server_clock()`), since some clients take the server's time as their next cursor.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


@dataclass
class Call:
    """An HTTP request as an emulator sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


class Api(Protocol):
    def handle(self, call: Call) -> Reply: ...

    def throttled(self, retry_after: float) -> Reply: ...


@dataclass
class Faults:
    """Deterministic fault schedule: every Nth request gets the fault (0 = never).

    Counting starts after the first `start_after` requests, which are always served whole.
    `rewrite` receives the decoded body of every answer the API gives and returns what to send
    instead, so a test can serve records with wrong types, missing fields or odd text.
    """

    throttle_every: int = 0
    retry_after: float = 0.05
    error_every: int = 0
    error_status: int = 503
    drop_every: int = 0
    truncate_every: int = 0
    delay: float = 0.0
    start_after: int = 0
    rewrite: Callable[[Any], Any] | None = None


def default_throttled(retry_after: float) -> Reply:
    return Reply(
        429,
        {"error": {"message": "Too many requests"}, "status": "failure"},
        {"Retry-After": f"{retry_after:g}"},
    )


def default_unavailable(status: int) -> Reply:
    return Reply(status, {"error": {"message": "Service unavailable (injected)"}})


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic` header; None for another scheme or a value
    that does not decode, which the emulators answer as a wrong credential."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return user, password


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the fault suite's SIGKILLs) is expected, not an error.
        log.debug("emulator: connection from %s ended abruptly", client_address, exc_info=True)


class EmulatorServer:
    """Serve an Api on 127.0.0.1 in a background thread; use as a context manager."""

    def __init__(
        self, api: Api, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None
    ) -> None:
        self.api = api
        self.faults = faults or Faults()
        self.requests = 0
        self.faults_injected = 0
        self._lock = threading.Lock()
        self._httpd = _Server((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        log.info("%s emulator listening on %s", type(self.api).__name__, self.url)
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_fault(self) -> str | None:
        with self._lock:
            self.requests += 1
            f = self.faults
            n = self.requests - f.start_after
            if n <= 0:
                return None
            for name, every in (
                ("drop", f.drop_every),
                ("throttle", f.throttle_every),
                ("error", f.error_every),
                ("truncate", f.truncate_every),
            ):
                if every and n % every == 0:
                    self.faults_injected += 1
                    return name
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Small JSON answers otherwise wait on Nagle + delayed ACK (~40 ms a request).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("emulator: " + format, *args)

            def date_time_string(self, timestamp: float | None = None) -> str:
                # An API with its own clock (`server_clock`) dates its answers by it, as clients
                # that take the server's Date as their next cursor need in tests.
                clock = getattr(server.api, "server_clock", None)
                if timestamp is None and clock is not None:
                    timestamp = clock()
                return super().date_time_string(timestamp)

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = server._next_fault()
                if server.faults.delay:
                    time.sleep(server.faults.delay)
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault == "throttle":
                    throttled = getattr(server.api, "throttled", default_throttled)
                    reply = throttled(server.faults.retry_after)
                elif fault == "error":
                    unavailable = getattr(server.api, "unavailable", default_unavailable)
                    reply = unavailable(server.faults.error_status)
                else:
                    parts = urlsplit(self.path)
                    call = Call(
                        self.command,
                        parts.path,
                        parse_qs(parts.query, keep_blank_values=True),
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        server.url,
                    )
                    try:
                        reply = server.api.handle(call)
                    except Exception as exc:  # an emulator bug must show, not hang the client
                        log.exception("emulator failed on %s %s", self.command, self.path)
                        reply = Reply(500, {"error": {"message": f"emulator error: {exc}"}})
                    rewrite = server.faults.rewrite
                    if rewrite is not None and not isinstance(reply.body, bytes):
                        reply.body = rewrite(reply.body)
                payload = reply.encode()
                if fault == "truncate":
                    # A well-formed HTTP answer whose JSON stops halfway, as a broken proxy sends.
                    payload = payload[: len(payload) // 2]
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

        return Handler


def serve(api: Api, faults: Faults | None = None) -> EmulatorServer:
    """Start an emulated API on loopback; the caller stops it."""
    return EmulatorServer(api, faults=faults).start()
