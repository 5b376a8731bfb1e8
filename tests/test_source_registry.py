"""Connectors configured from the environment: what they refuse is permanent and names a variable."""

import pytest

from connectors.emulators.servicenow import Credentials, serve
from connectors.http import PermanentSourceError
from connectors.registry import source_from_env
from warehouse.ingest import ingest


@pytest.mark.parametrize(
    ("source", "env", "message"),
    [
        ("servicenow", {}, "servicenow: SERVICENOW_INSTANCE_URL is not set"),
        (
            "servicenow",
            {"SERVICENOW_INSTANCE_URL": "http://acme.example.com", "SERVICENOW_TOKEN": "t"},
            "servicenow: refusing plain-http URL http://acme.example.com",
        ),
        ("aws_ce", {"AWS_ACCESS_KEY_ID": "AKIA"}, "aws_ce: AWS_SECRET_ACCESS_KEY is not set"),
        ("focus", {}, "focus: FOCUS_PATHS is not set"),
    ],
)
def test_settings_a_connector_refuses_are_a_permanent_error(source, env, message):
    with pytest.raises(PermanentSourceError, match=message):
        source_from_env(source, env)


def test_a_refused_token_names_the_token_variable_never_its_value():
    instance = serve({}, Credentials("scorecard.reader", "pw", token="the-valid-token"))
    try:
        source = source_from_env(
            "servicenow",
            {"SERVICENOW_INSTANCE_URL": instance.url, "SERVICENOW_TOKEN": "an-expired-token"},
        )
        with pytest.raises(PermanentSourceError) as error:
            next(source.read(source.streams()[0], None))
        requests = instance.requests
    finally:
        instance.stop()
    assert str(error.value).startswith(
        "servicenow: authentication failed (HTTP 401) for SERVICENOW_TOKEN; check that the "
        "token is valid and has not expired."
    )
    assert "an-expired-token" not in str(error.value)
    assert requests == 1


def test_a_glob_that_matches_nothing_is_permanent(tmp_path, warehouse):
    source = source_from_env("focus", {"FOCUS_PATHS": str(tmp_path / "exports" / "*.csv")})
    with warehouse.connect() as con, pytest.raises(PermanentSourceError, match="matched no files"):
        ingest(con, source, "run-1")


def test_a_bad_shared_currency_setting_names_the_cost_source_reading_it():
    env = {"AZURE_COST_SCOPE": "/subscriptions/x", "AZURE_ACCESS_TOKEN": "t"}
    with pytest.raises(PermanentSourceError) as error:
        source_from_env("azure_cost", env | {"FOCUS_EXCHANGE_RATES": "EUR=1.1"})
    assert str(error.value) == "azure_cost: FOCUS_EXCHANGE_RATES needs FOCUS_CURRENCY (the target)"
    source = source_from_env(
        "azure_cost", env | {"FOCUS_CURRENCY": "usd", "FOCUS_EXCHANGE_RATES": "EUR=1.1"}
    )
    assert (source.currency.reporting, source.currency.rates) == ("USD", {"EUR": 1.1})
