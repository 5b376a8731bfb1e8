"""The net under library errors: credential values never leave in text."""

import dagster as dg

from connectors.secrets import MASK, without_secrets
from pipelines import ingest
from pipelines.resources import SourcesResource, WarehouseResource

ENV = {
    "JIRA_API_TOKEN": "tok-SECRET-42\n",
    "SERVICENOW_PASSWORD": "hunter2hunter2",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
    "SCORECARD_PUBLISH_URL": "postgresql://bi:pa55word@db/scorecard",
    "AZURE_ACCESS_TOKEN": "abc",  # too short to mask by chance
    "JIRA_BASE_URL": "https://acme.atlassian.net",  # not a credential
}


def test_every_credential_value_is_masked_as_set_and_stripped():
    text = (
        "ValueError: Invalid header value b'Bearer tok-SECRET-42\\n' for "
        "https://acme.atlassian.net (user admin:hunter2hunter2, key wJalrXUtnFEMI/K7MDENG, "
        "publish postgresql://bi:pa55word@db/scorecard) abc"
    )
    assert without_secrets(text, ENV) == (
        f"ValueError: Invalid header value b'Bearer {MASK}\\n' for "
        f"https://acme.atlassian.net (user admin:{MASK}, key {MASK}, publish {MASK}) abc"
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
