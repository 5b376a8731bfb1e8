"""The shared HTTP client against a real emulator server with injected faults."""

import socket
import threading
import time

import pytest
import requests

from connectors.emulators.server import Call, EmulatorServer, Faults, Reply
from connectors.http import (
    HttpClient,
    PermanentSourceError,
    Request,
    RetryPolicy,
    SourceError,
    header_delay,
    listed,
    redact,
    require_safe_url,
)


class Counter:
    """Serves ?page=N of 4 pages, each pointing to the next with a Link header."""

    def handle(self, call: Call) -> Reply:
        page = int(call.arg("page", "1"))
        headers = {}
        if page < 4:
            headers["Link"] = f'<{call.base_url}/items?page={page + 1}>; rel="next"'
        return Reply(200, {"result": [page * 10 + i for i in range(3)]}, headers)


def client(sleeps: list[float] | None = None, attempts: int = 6) -> HttpClient:
    recorded = sleeps if sleeps is not None else []
    return HttpClient(
        "servicenow",
        policy=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=5),
        sleep=recorded.append,
    )


def test_paging_follows_link_headers_through_throttling_errors_and_drops():
    from connectors.http import next_by_link_header

    faults = Faults(throttle_every=3, error_every=4, drop_every=5, retry_after=0.2)
    sleeps: list[float] = []
    with EmulatorServer(Counter(), faults=faults) as server:
        pages = list(
            client(sleeps).paginate(Request("GET", f"{server.url}/items"), next_by_link_header)
        )
        assert server.faults_injected > 0
    assert [body["result"] for _, body in pages] == [
        [10, 11, 12],
        [20, 21, 22],
        [30, 31, 32],
        [40, 41, 42],
    ]
    # Retry-After of a 429 is honoured as a floor on the backoff.
    assert any(s >= 0.2 for s in sleeps)


def test_gives_up_after_bounded_attempts_naming_what_was_read():
    with EmulatorServer(Counter(), faults=Faults(error_every=1)) as server:
        request = Request("GET", f"{server.url}/items", context="incident at offset 20000")
        with pytest.raises(
            SourceError,
            match=r"servicenow: gave up reading incident at offset 20000 after 3 attempts \(last: HTTP 503\)",
        ):
            client(attempts=3).send(request)
        assert server.requests == 3


def test_cut_short_answers_and_server_errors_share_one_attempt_budget():
    # Every request fails, alternating a cut-short 200 and a 503: three attempts, three requests.
    faults = Faults(error_every=2, truncate_every=1)
    with EmulatorServer(Counter(), faults=faults) as server:
        request = Request("GET", f"{server.url}/items", context="items page 1")
        with pytest.raises(SourceError) as error:
            client(attempts=3).fetch_json(request)
        assert server.requests == 3
    assert str(error.value).startswith(
        "servicenow: gave up reading items page 1 after 3 attempts (last: the answer was "
    )
    assert "not whole JSON" in str(error.value)


def test_client_error_is_reported_with_the_sources_message_and_no_credentials():
    class Unauthorised:
        def handle(self, call: Call) -> Reply:
            return Reply(401, {"error": {"message": "User Not Authenticated"}, "status": "failure"})

    with EmulatorServer(Unauthorised()) as server:
        http = HttpClient("servicenow", auth=("admin", "hunter2"))
        with pytest.raises(SourceError) as error:
            http.fetch_json(
                Request(
                    "GET", f"{server.url}/api/now/table/incident", context="incident at offset 0"
                )
            )
    assert str(error.value).startswith(
        "servicenow: authentication failed (HTTP 401); check the source's credentials. The "
        "source answered, reading incident at offset 0: "
    )
    assert "User Not Authenticated" in str(error.value)
    assert "hunter2" not in str(error.value)


def test_plain_http_is_refused_unless_loopback():
    assert require_safe_url("http://127.0.0.1:8080/", "servicenow") == "http://127.0.0.1:8080"
    assert require_safe_url("http://localhost:1", "jira") == "http://localhost:1"
    assert (
        require_safe_url("https://acme.service-now.com", "servicenow")
        == "https://acme.service-now.com"
    )
    with pytest.raises(
        SourceError, match="servicenow: refusing plain-http URL http://acme.example.com"
    ):
        require_safe_url("http://user:pw@acme.example.com", "servicenow")


def test_redact_removes_credentials_from_urls():
    assert redact("https://bob:secret@host:8443/a?b=1") == "https://host:8443/a?b=1"
    # A port that does not parse (and a password holding an @) is no reason to show the rest.
    assert redact("https://admin:S3c@ret@host:99999/x") == "https://host:99999/x"
    assert redact("https://admin:S3cret@host:443x") == "https://host:443x"


@pytest.mark.parametrize("port", ["99999", "443x"])
def test_a_url_whose_port_is_no_port_is_refused_without_its_credentials(port):
    with pytest.raises(SourceError) as error:
        require_safe_url(f"https://admin:S3cretPw@acme.service-now.com:{port}", "servicenow")
    assert str(error.value) == (
        f"servicenow: 'https://acme.service-now.com:{port}' has a port that is not a number "
        "from 0 to 65535"
    )


def test_a_request_that_cannot_be_sent_fails_at_once_without_quoting_its_headers():
    """A token read from a file ends in a line break, which no header may hold: the HTTP
    library refuses the request with the header, token and all, in its message. The read fails
    at once (no retry can help), naming the source and what to check, never the token."""
    sleeps: list[float] = []
    with EmulatorServer(Counter()) as server:
        http = HttpClient(
            "jira",
            headers={"Authorization": "Bearer tok-SECRET-42\n"},
            policy=RetryPolicy(max_attempts=3, base_delay=0.01),
            sleep=sleeps.append,
            credentials_check="JIRA_API_TOKEN",
        )
        with pytest.raises(PermanentSourceError) as error:
            http.fetch_json(Request("GET", f"{server.url}/items", context="issues from 0"))
    message = str(error.value)
    assert message.startswith("jira: the request for issues from 0 could not be sent (")
    assert "check JIRA_API_TOKEN and the source's URL for a stray character" in message
    assert "SECRET" not in message and sleeps == []
    # Nothing chains the library's own error (a traceback would print it).
    assert error.value.__cause__ is None and error.value.__context__ is None


def test_rate_limit_headers_give_the_wait():
    def response(**headers: str) -> requests.Response:
        r = requests.Response()
        r.status_code = 429
        r.headers.update(headers)
        return r

    assert header_delay(response(**{"Retry-After": "7"})) == 7
    reset = time.time() + 30
    assert 28 < header_delay(response(**{"X-RateLimit-Reset": f"{reset:.0f}"})) <= 31
    assert header_delay(response()) is None


def test_client_repr_holds_no_credentials():
    basic = HttpClient("servicenow", auth=("admin", "hunter2"))
    bearer = HttpClient("azure_cost", headers={"Authorization": "Bearer tok-123"})
    assert "hunter2" not in repr(basic)
    assert "tok-123" not in repr(bearer)
    assert "servicenow" in repr(basic)


def test_next_page_links_to_another_origin_are_refused():
    from connectors.http import next_by_link_header

    class Elsewhere:
        def handle(self, call: Call) -> Reply:
            if call.arg("page") == "2":
                return Reply(200, {"result": [2]})
            return Reply(
                200,
                {"result": [1]},
                {"Link": '<https://collector.example.com/items?page=2>; rel="next"'},
            )

    class Relative:
        def handle(self, call: Call) -> Reply:
            page = int(call.arg("page", "1"))
            headers = {"Link": f'</items?page={page + 1}>; rel="next"'} if page < 3 else {}
            return Reply(200, {"result": [page]}, headers)

    with EmulatorServer(Elsewhere()) as server:
        pages = client().paginate(
            Request("GET", f"{server.url}/items", context="table incident"), next_by_link_header
        )
        assert next(pages)[1] == {"result": [1]}
        with pytest.raises(
            SourceError,
            match=r"servicenow: table incident: the next-page link points to another origin "
            r"\(https://collector\.example\.com/items\?page=2\)",
        ):
            next(pages)
        assert server.requests == 1
    with EmulatorServer(Relative()) as server:
        pages = client().paginate(Request("GET", f"{server.url}/items"), next_by_link_header)
        assert [body["result"] for _, body in pages] == [[1], [2], [3]]


class Answers:
    """Answers every request with one status and the source's own error text."""

    def __init__(self, status: int) -> None:
        self.status = status

    def handle(self, call: Call) -> Reply:
        return Reply(self.status, {"error": {"message": f"refused with {self.status}"}})


@pytest.mark.parametrize(
    ("status", "cause"),
    [
        (
            401,
            "servicenow: authentication failed (HTTP 401) for SERVICENOW_USERNAME; check "
            "SERVICENOW_PASSWORD / SERVICENOW_TOKEN. The source answered, reading table incident",
        ),
        (
            403,
            "servicenow: access denied (HTTP 403) for SERVICENOW_USERNAME; check "
            "SERVICENOW_PASSWORD / SERVICENOW_TOKEN",
        ),
        (404, "servicenow: request refused (HTTP 404); a retry gets the same answer"),
    ],
)
def test_answers_that_repeat_on_retry_are_permanent_and_asked_once(status, cause):
    with EmulatorServer(Answers(status)) as server:
        http = HttpClient(
            "servicenow",
            auth=("admin", "hunter2"),
            policy=RetryPolicy(max_attempts=6, base_delay=0.01),
            credentials_of="SERVICENOW_USERNAME",
            credentials_check="SERVICENOW_PASSWORD / SERVICENOW_TOKEN",
        )
        request = Request("GET", f"{server.url}/api/now/table/incident", context="table incident")
        with pytest.raises(PermanentSourceError) as error:
            http.fetch_json(request)
        assert server.requests == 1
    assert str(error.value).startswith(cause)
    assert f"refused with {status}" in str(error.value)
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize("faults", [Faults(error_every=1), Faults(throttle_every=1)])
def test_throttling_and_server_errors_stay_transient_after_the_clients_retries(faults):
    with EmulatorServer(Counter(), faults=faults) as server:
        with pytest.raises(SourceError) as error:
            client(attempts=3).send(Request("GET", f"{server.url}/items"))
        assert server.requests == 3
    # A plain SourceError: the step's retry policy may still try again later.
    assert not isinstance(error.value, PermanentSourceError)


def test_dropped_connections_stay_transient():
    dropped = pytest.raises(SourceError, match=r"after 2 attempts \(last: ConnectionError\)")
    with EmulatorServer(Counter(), faults=Faults(drop_every=1)) as server, dropped as error:
        client(attempts=2).send(Request("GET", f"{server.url}/items"))
    assert not isinstance(error.value, PermanentSourceError)


def test_an_answer_without_its_list_names_the_source_and_what_was_read():
    request = Request("GET", "http://127.0.0.1:1/services", context="services page 2")
    services = [{"id": "P1"}, {"id": "P2"}]
    assert listed("pagerduty", {"services": services}, "services", request) == services
    with pytest.raises(SourceError) as error:
        listed("pagerduty", {"error": "maintenance"}, "services", request)
    assert str(error.value) == (
        "pagerduty: services page 2: answer has no services list: \"{'error': 'maintenance'}\""
    )
    # Without a context the URL stands for what was read, with any user:password@ dropped.
    bare = Request("GET", "http://user:pw@127.0.0.1:1/search")
    with pytest.raises(SourceError, match=r"^jira: http://127\.0\.0\.1:1/search: answer has no"):
        listed("jira", ["not", "an", "object"], "issues", bare)


def test_a_source_that_never_answers_is_named_by_its_host_without_credentials():
    # Nothing listens on port 1; the URL's user and password stay out of the message.
    request = Request("GET", "http://svc-user:S3cret-pw@127.0.0.1:1/api/now/table/incident")
    with pytest.raises(SourceError) as error:
        client(attempts=2).send(request)
    message = str(error.value)
    assert message.endswith("after 2 attempts (last: ConnectionError); no answer from 127.0.0.1:1")
    assert "S3cret-pw" not in message and "svc-user" not in message


def serve_raw_answers(answers: list[bytes]) -> tuple[str, socket.socket]:
    """A loopback server that sends each connection the next raw answer, then closes it."""
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        for answer in answers:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(answer)

    threading.Thread(target=run, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", listener


def test_a_body_cut_short_of_its_announced_length_is_asked_again():
    """A proxy resetting the connection mid-body: fewer bytes arrive than Content-Length says."""
    body = b'{"result": [1, 2, 3, 4, 5, 6]}'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    whole = head % len(body) + body
    url, listener = serve_raw_answers([whole[: len(whole) - 10], whole])
    sleeps: list[float] = []
    with listener:
        _, decoded = client(sleeps).fetch_json(Request("GET", f"{url}/items"))
    assert decoded == {"result": [1, 2, 3, 4, 5, 6]}
    assert len(sleeps) == 1


def test_control_characters_sent_raw_inside_strings_are_read_as_they_are():
    """A description with a tab, a line break and a stray control character sent unescaped,
    which strict JSON refuses: the page is read, not refused on every retry."""
    body = '{"result": [{"description": "line one\tcol\nline two \x01 \u00e9"}]}'.encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    url, listener = serve_raw_answers([head % len(body) + body])
    sleeps: list[float] = []
    with listener:
        _, decoded = client(sleeps).fetch_json(Request("GET", f"{url}/items"))
    assert decoded == {"result": [{"description": "line one\tcol\nline two \x01 \u00e9"}]}
    assert sleeps == []


class ThrottledOnce:
    """A 429 asking for a wait longer than the backoff's ceiling, then the answer."""

    def __init__(self, retry_after: str) -> None:
        self.retry_after = retry_after
        self.calls = 0

    def handle(self, call: Call) -> Reply:
        self.calls += 1
        if self.calls == 1:
            return Reply(429, {"error": "slow down"}, {"Retry-After": self.retry_after})
        return Reply(200, {"result": [1]})


@pytest.mark.parametrize(("retry_after", "waited"), [("300", 300.0), ("86400", 3600.0)])
def test_a_retry_after_beyond_the_backoff_ceiling_is_waited_in_full_up_to_an_hour(
    retry_after, waited
):
    sleeps: list[float] = []
    with EmulatorServer(ThrottledOnce(retry_after)) as server:
        _, decoded = client(sleeps).fetch_json(Request("GET", f"{server.url}/items"))
    assert decoded == {"result": [1]}
    assert sleeps == [waited]  # the backoff's own ceiling here is 5 s


@pytest.mark.parametrize("delimiter", ["/", "?", "#"])
def test_a_password_with_an_unencoded_delimiter_is_not_shown(delimiter):
    """The delimiter ends the authority early: "admin:Winter" reads as host and port, and the
    rest of the password as the path, query or fragment, up to the @."""
    url = f"https://admin:Winter{delimiter}2026x@acme.service-now.com"
    with pytest.raises(SourceError) as error:
        require_safe_url(url, "servicenow")
    assert str(error.value) == (
        "servicenow: 'https://***@acme.service-now.com' has a port that is not a number from 0 "
        "to 65535 (or a password in it holds an unencoded / ? or #)"
    )
    assert redact(f"http://admin:12{delimiter}Winter@acme.example.com/x") == (
        "http://***@acme.example.com/x"
    )
    # A user name with a dot before a password starting with digits reads as host and port.
    assert redact(f"https://first.last:2024{delimiter}Summer@jira.example.com/rest") == (
        "https://***@jira.example.com/rest"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://jira.corp:8443/rest/api/2/user?username=jane@corp.com",
            "https://jira.corp:8443/rest/api/2/user?username=jane@corp.com",
        ),
        ("https://[2001:db8::1]/users/jane@corp.com", "https://[2001:db8::1]/users/jane@corp.com"),
        ("http://localhost:8080/a@b", "http://localhost:8080/a@b"),
        ("https://u:p@jira.corp:8443/x@y", "https://jira.corp:8443/x@y"),
    ],
)
def test_a_url_with_a_port_and_an_at_sign_in_its_path_keeps_its_host(url, shown):
    """Only user info is dropped: a host with a port (or an IPv6 host) stays, with its path."""
    assert redact(url) == shown
