"""Azure Cost Management signed in as a service principal, the way a nightly schedule runs it.

AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET go through the real DefaultAzureCredential ->
EnvironmentCredential -> ClientSecretCredential -> MSAL chain to an Entra ID emulator on loopback
HTTPS (a certificate authority made for this module, trusted through REQUESTS_CA_BUNDLE by these
tests only). The cost emulator accepts only tokens that emulator issued and that are still live,
so a load that matches the ground truth proves the token flowed from the sign-in to the query.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
import requests

from connectors.azure_cost import CostManagement, from_env
from connectors.emulators.azure_cost import DEMO_SCOPE, DEMO_TOKEN, CostManagementApi
from connectors.emulators.entra_id import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_TENANT,
    EntraId,
    TlsEmulatorServer,
    TlsFiles,
    make_tls_files,
)
from connectors.emulators.server import EmulatorServer, Faults
from connectors.http import PermanentSourceError, SourceError
from tests.test_costs_azure import AS_OF, AZURE_IDENTITY_VARIABLES, FAST, loaded
from transforms.staging import stage
from warehouse.ingest import ingest

WRONG_SECRET = "wrong-secret-7Qz~not-the-value"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@contextmanager
def service_principal(
    monkeypatch: pytest.MonkeyPatch, tls: TlsFiles, entra: EntraId, secret: str
) -> Iterator[TlsEmulatorServer]:
    """The service principal variables alone, pointed at the Entra ID emulator."""
    for variable in (*AZURE_IDENTITY_VARIABLES, "AZURE_AUTHORITY_HOST", "AZURE_TOKEN_CREDENTIALS"):
        monkeypatch.delenv(variable, raising=False)
    with TlsEmulatorServer(entra, tls) as authority:
        monkeypatch.setenv("AZURE_AUTHORITY_HOST", authority.url)
        monkeypatch.setenv("AZURE_TENANT_ID", entra.tenant)
        monkeypatch.setenv("AZURE_CLIENT_ID", entra.client_id)
        monkeypatch.setenv("AZURE_CLIENT_SECRET", secret)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.authority))
        yield authority


def source(cost_url: str, start: date, **more: str) -> CostManagement:
    env = {
        "AZURE_COST_SCOPE": DEMO_SCOPE,
        "AZURE_COST_ENDPOINT_URL": cost_url,
        "AZURE_COST_DISABLE_INSTANCE_DISCOVERY": "true",
        "AZURE_COST_START": start.isoformat(),
        "AZURE_COST_LOOKBACK_DAYS": "3",
        **more,
    }
    connector = from_env(env)
    connector.today = AS_OF.date()
    connector.client.policy = FAST
    return connector


def test_service_principal_variables_alone_load_the_ground_truth(warehouse, monkeypatch, tls):
    # The same emulator, page size and throttling as test_throttled_load_equals_ground_truth,
    # which signs in with AZURE_ACCESS_TOKEN; here no token is configured anywhere.
    entra = EntraId()
    api = CostManagementApi(AS_OF, page_size=33, issuer=entra)
    with (
        service_principal(monkeypatch, tls, entra, DEMO_CLIENT_SECRET),
        EmulatorServer(api, faults=Faults(throttle_every=5, retry_after=0.02)) as cost,
        warehouse.connect() as con,
    ):
        result = ingest(con, source(cost.url, date(2023, 12, 7)), "run-1")
        stage(con, "azure_cost", "costs")
        got = loaded(con)
        cursor = con.execute(
            "SELECT cursor_value FROM meta.cursors WHERE source = 'azure_cost'"
        ).fetchall()
        assert cost.faults_injected >= 5
    truth = api.ground_truth()
    assert got == truth
    assert result.streams["costs"].received == len(truth)
    assert cursor == [("2025-02-28",)]
    # MSAL read the tenant's discovery document once and got one token, live for the whole run;
    # every page of every month (rows per month / 33, rounded up; each month asked for its actual
    # and its amortised cost) carried that token and no other.
    rows_by_month = Counter((day.year, day.month) for day, _, _ in truth)
    assert len(api.tokens_seen) == 2 * sum(-(-rows // 33) for rows in rows_by_month.values())
    assert (entra.discovery_requests, entra.token_requests, entra.tokens_issued) == (1, 1, 1)
    assert len(set(api.tokens_seen)) == 1
    assert DEMO_TOKEN not in api.tokens_seen


def test_an_access_token_overrides_the_service_principal(warehouse, monkeypatch, tls):
    entra = EntraId()
    api = CostManagementApi(AS_OF, issuer=entra)
    with (
        service_principal(monkeypatch, tls, entra, DEMO_CLIENT_SECRET),
        EmulatorServer(api) as cost,
        warehouse.connect() as con,
    ):
        start = date(2025, 2, 1)
        ingest(con, source(cost.url, start, AZURE_ACCESS_TOKEN=DEMO_TOKEN), "run-1")
        stage(con, "azure_cost", "costs")
        got = loaded(con)
    assert got == {k: v for k, v in api.ground_truth().items() if k[0] >= start}
    assert (entra.discovery_requests, entra.token_requests) == (0, 0)
    assert set(api.tokens_seen) == {DEMO_TOKEN}


def test_a_wrong_client_secret_fails_at_once_naming_the_variables_never_the_secret(
    warehouse, monkeypatch, tls, caplog
):
    caplog.set_level(logging.DEBUG)
    entra = EntraId()
    with (
        service_principal(monkeypatch, tls, entra, WRONG_SECRET),
        EmulatorServer(CostManagementApi(AS_OF, issuer=entra)) as cost,
        warehouse.connect() as con,
        pytest.raises(PermanentSourceError) as error,
    ):
        ingest(con, source(cost.url, date(2025, 1, 1)), None)
    message = str(error.value)
    assert message.startswith("azure_cost: no Azure token")
    assert "AADSTS7000215: Invalid client secret provided" in message
    assert "AZURE_CLIENT_SECRET" in message and "AZURE_TENANT_ID" in message
    # Permanent: one token request, no retry of it, and no cost query sent without a token.
    assert entra.token_requests == 1
    assert cost.requests == 0
    whole_error = "".join(traceback.format_exception(error.value))
    assert WRONG_SECRET not in whole_error
    assert WRONG_SECRET not in caplog.text
    # The capture did see the sign-in's own logs, so their silence about the secret is real.
    assert any("AADSTS7000215" in record.getMessage() for record in caplog.records)


def test_a_token_that_expires_mid_run_is_renewed_before_the_next_page(warehouse, monkeypatch, tls):
    # Tokens live 1 s; ten pages (twice: actual and amortised cost) 0.3 s apart take 6 s. The cost emulator refuses an expired token
    # (ExpiredAuthenticationToken, a permanent 401), so the load only completes if the connector
    # asks the credential for a token on each request rather than once per month or run.
    entra = EntraId(expires_in=1)
    api = CostManagementApi(AS_OF, page_size=4, issuer=entra)
    start = date(2025, 2, 19)
    with (
        service_principal(monkeypatch, tls, entra, DEMO_CLIENT_SECRET),
        EmulatorServer(api, faults=Faults(delay=0.3)) as cost,
        warehouse.connect() as con,
    ):
        began = time.monotonic()
        ingest(con, source(cost.url, start), "run-1")
        took = time.monotonic() - began
        stage(con, "azure_cost", "costs")
        got = loaded(con)
    truth = {k: v for k, v in api.ground_truth().items() if k[0] >= start}
    assert got == truth
    assert len(truth) == 10 * 4  # Feb 19..28, four groups a day: ten pages of four rows
    assert took > 3 * entra.expires_in
    assert len(api.tokens_seen) == 2 * 10
    assert len(set(api.tokens_seen)) >= 3  # 3 s of paging cannot be served by fewer 1 s tokens
    assert entra.tokens_issued >= len(set(api.tokens_seen))


@pytest.mark.parametrize(
    "fault",
    [Faults(throttle_every=2, retry_after=0.3), Faults(error_every=2, error_status=503)],
    ids=["429", "503"],
)
def test_a_sign_in_refused_for_a_moment_is_asked_again_not_failed(
    warehouse, monkeypatch, tls, fault
):
    # Request 1 is the discovery document, request 2 (the first token request) gets the fault:
    # azure-identity's own retry asks again, so only a lasting refusal becomes permanent.
    entra = EntraId()
    api = CostManagementApi(AS_OF, issuer=entra)
    start = date(2025, 2, 1)
    with (
        service_principal(monkeypatch, tls, entra, DEMO_CLIENT_SECRET) as authority,
        EmulatorServer(api) as cost,
        warehouse.connect() as con,
    ):
        authority.faults = fault
        ingest(con, source(cost.url, start), "run-1")
        stage(con, "azure_cost", "costs")
        got = loaded(con)
    assert got == {k: v for k, v in api.ground_truth().items() if k[0] >= start}
    assert (authority.requests, authority.faults_injected) == (3, 1)
    assert (entra.discovery_requests, entra.token_requests, entra.tokens_issued) == (1, 1, 1)


def test_the_token_emulator_is_trusted_only_where_its_authority_is_given(monkeypatch, tls):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with TlsEmulatorServer(EntraId(), tls) as authority:
        discovery = f"{authority.url}/{DEMO_TENANT}/v2.0/.well-known/openid-configuration"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(discovery, timeout=5)
        answer = requests.get(discovery, timeout=5, verify=str(tls.authority))
        token = requests.post(
            answer.json()["token_endpoint"],
            data={
                "grant_type": "client_credentials",
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
                "scope": "https://graph.microsoft.com/.default",
            },
            timeout=5,
            verify=str(tls.authority),
        )
    assert answer.status_code == 200
    assert (token.status_code, token.json()["error"], token.json()["error_codes"]) == (
        400,
        "invalid_resource",
        [500011],
    )


def test_instance_discovery_switch_must_be_a_boolean():
    with pytest.raises(SourceError, match="AZURE_COST_DISABLE_INSTANCE_DISCOVERY='maybe'"):
        from_env({"AZURE_COST_SCOPE": DEMO_SCOPE, "AZURE_COST_DISABLE_INSTANCE_DISCOVERY": "maybe"})
