"""The net under library errors: credential values never leave in text."""

from datetime import UTC, datetime

import dagster as dg
import pytest

from connectors import aws_cost_explorer, freshservice, pagerduty, servicenow
from connectors.emulators.aws_cost_explorer import (
    DEMO_ACCESS_KEY,
    DEMO_SECRET_KEY,
    CostExplorerApi,
)
from connectors.emulators.server import Call, EmulatorServer, Reply
from connectors.http import PermanentSourceError, Request, RequestRefused
from connectors.secrets import MASK, without_secrets
from pipelines import ingest
from pipelines.resources import SourcesResource, WarehouseResource
from warehouse import Warehouse
from warehouse.ingest import ingest as warehouse_ingest

ENV = {
    "JIRA_API_TOKEN": "tok-SECRET-42\n",
    "SERVICENOW_PASSWORD": "hunter2hunter2",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
    "SCORECARD_PUBLISH_URL": "postgresql://bi:pa55word@db/scorecard",
    "SCORECARD_WEBHOOK_URL": "https://hooks.example/services/T1/B2/xoxb42",
    "AZURE_ACCESS_TOKEN": "abc",  # too short to mask by chance
    "JIRA_BASE_URL": "https://acme.atlassian.net",  # not a credential
}


def test_every_credential_value_is_masked_as_set_and_stripped():
    text = (
        "ValueError: Invalid header value b'Bearer tok-SECRET-42\\n' for "
        "https://acme.atlassian.net (user admin:hunter2hunter2, key wJalrXUtnFEMI/K7MDENG, "
        "publish postgresql://bi:pa55word@db/scorecard, "
        "hook https://hooks.example/services/T1/B2/xoxb42) abc"
    )
    assert without_secrets(text, ENV) == (
        f"ValueError: Invalid header value b'Bearer {MASK}\\n' for "
        f"https://acme.atlassian.net (user admin:{MASK}, key {MASK}, publish {MASK}, "
        f"hook {MASK}) abc"
    )
    assert without_secrets("nothing to hide", ENV) == "nothing to hide"


SECRET = "tok-SECRET-4242"


class SourceFailingInALibrary(SourcesResource):
    """A source whose read fails inside a library, whose message (chained by the connector)
    quotes the token: the kind of error no connector anticipates."""

    def open(self, name, as_of=None):  # noqa: ANN001, ANN201, ARG002
        try:
            raise ValueError(f"Invalid header value b'Bearer {SECRET}'")
        except ValueError as exc:
            raise RuntimeError("jira: reading issues failed") from exc


def test_an_unexpected_error_quoting_a_token_is_masked_in_every_event(tmp_path, monkeypatch):
    monkeypatch.setenv("JIRA_API_TOKEN", SECRET)
    # One retry, at once: the attempt that raises and the last one that records the failure.
    monkeypatch.setattr(ingest, "INGEST_RETRY", dg.RetryPolicy(max_retries=1, delay=0.1))
    result = dg.materialize(
        [ingest.ingest_asset("jira")],
        resources={
            "warehouse": WarehouseResource(published_path=str(tmp_path / "w.duckdb")),
            "sources": SourceFailingInALibrary(),
        },
        raise_on_error=False,
    )
    shown = [event.message or "" for event in result.all_events] + [
        event.event_specific_data.error.to_string()
        for event in result.all_events
        if getattr(getattr(event, "event_specific_data", None), "error", None) is not None
    ]
    assert any("jira: RuntimeError: jira: reading issues failed" in text for text in shown)
    assert not [text for text in shown if SECRET in text]
    materialized = result.asset_materializations_for_node("raw__jira")
    assert materialized[-1].metadata["not_read"].value == (
        "jira: RuntimeError: jira: reading issues failed"
    )


class QuotesTheCredential:
    """A gateway that refuses a request quoting the Authorization header it was sent."""

    def __init__(self, status: int) -> None:
        self.status = status

    def handle(self, call: Call) -> Reply:
        sent = call.headers.get("authorization")
        return Reply(self.status, {"error": {"message": f"not accepted: {sent}"}})


def test_a_refusal_quoting_the_credential_it_was_sent_names_none_of_it():
    password, token, key = "Sn0w-pass-SECRET", "pd-token-SECRET", "fs-apikey-SECRET"
    for status in (401, 400):
        with EmulatorServer(QuotesTheCredential(status)) as server:
            sources = {
                servicenow: {
                    "SERVICENOW_INSTANCE_URL": server.url,
                    "SERVICENOW_USERNAME": "admin",
                    "SERVICENOW_PASSWORD": password,
                },
                pagerduty: {"PAGERDUTY_API_URL": server.url, "PAGERDUTY_TOKEN": token},
                freshservice: {"FRESHSERVICE_URL": server.url, "FRESHSERVICE_API_KEY": key},
            }
            for module, env in sources.items():
                client = module.from_env(env).client
                with pytest.raises(RequestRefused) as refused:
                    client.fetch_json(Request("GET", server.url + "/api", context="the probe"))
                # Basic auth's header is base64("admin:Sn0w-pass-SECRET"), the key's
                # base64("fs-apikey-SECRET:X"); PagerDuty's is "Token token=pd-token-SECRET".
                assert str(refused.value).endswith(
                    "The source answered, reading the probe: {'message': 'not accepted: ***'}"
                ), str(refused.value)


def test_a_refusal_quoting_a_secret_is_masked_in_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("PAGERDUTY_TOKEN", SECRET)

    class RefusedQuotingTheToken(SourcesResource):
        def open(self, name, as_of=None):  # noqa: ANN001, ANN201, ARG002
            raise PermanentSourceError(f"pagerduty: authentication failed: token {SECRET}")

    result = dg.materialize(
        [ingest.ingest_asset("pagerduty")],
        resources={
            "warehouse": WarehouseResource(published_path=str(tmp_path / "w.duckdb")),
            "sources": RefusedQuotingTheToken(),
        },
        raise_on_error=False,
    )
    materialized = result.asset_materializations_for_node("raw__pagerduty")
    assert materialized[-1].metadata["not_read"].value == (
        f"pagerduty: authentication failed: token {MASK}"
    )
    assert not [event for event in result.all_events if SECRET in (event.message or "")]


def test_an_aws_session_token_with_a_line_break_inside_is_not_quoted(tmp_path):
    token = "IQoJb3JpZ2luX2VjEXAMPLE\nSESSIONTOKENPART2"
    with EmulatorServer(CostExplorerApi(datetime(2025, 3, 1, tzinfo=UTC))) as server:
        source = aws_cost_explorer.from_env(
            {
                "AWS_CE_ENDPOINT_URL": server.url,
                "AWS_ACCESS_KEY_ID": DEMO_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": DEMO_SECRET_KEY,
                "AWS_SESSION_TOKEN": token,
                "SCORECARD_AS_OF": "2025-03-01",
                "AWS_CE_START": "2025-02-01",
            }
        )
        with (
            Warehouse.at(tmp_path / "w.duckdb").connect() as con,
            pytest.raises(PermanentSourceError) as refused,
        ):
            warehouse_ingest(con, source, origin=server.url)
    message = str(refused.value)
    assert "could not be sent (ValueError)" in message, message
    assert "IQoJb3JpZ2luX2VjEXAMPLE" not in message and "SESSIONTOKENPART2" not in message
