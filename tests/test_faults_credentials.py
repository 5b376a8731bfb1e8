"""A credential that expires mid-run, or a wrong one: the run fails at once, names the source,
and the secret appears nowhere (not in the output, not in anything under DAGSTER_HOME)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import servicenow
from connectors.emulators.catalogue import demo_as_of
from connectors.emulators.server import Faults
from connectors.emulators.servicenow import Credentials, serve
from connectors.emulators.servicenow_demo import demo_tables
from connectors.http import PermanentSourceError
from tests.conftest import launch_nightly_job
from tests.test_fail_fast import empty_config, run_events, step_attempts
from warehouse import Warehouse
from warehouse.ingest import ingest

pytestmark = pytest.mark.faults

TOKEN = "oauth-token-7f3a9c1e-do-not-print"
PASSWORD = "hunter2-never-in-a-log"


def files_holding(folder: Path, secret: str) -> list[str]:
    return [
        str(path)
        for path in folder.rglob("*")
        if path.is_file() and secret.encode() in path.read_bytes()
    ]


def test_a_token_that_expires_mid_run_fails_the_run_at_once_without_printing_it(tmp_path):
    tables = demo_tables(demo_as_of())
    # Three pages are read, then the instance refuses the token, as when it expires mid-run.
    faults = Faults(error_every=1, error_status=401, start_after=3)
    instance = serve(tables, Credentials("unused", "unused", token=TOKEN), faults=faults)
    home = tmp_path / "home"
    try:
        run = launch_nightly_job(
            check=False,
            dagster_home=home,
            SCORECARD_SOURCES="servicenow",
            SCORECARD_CONFIG=str(empty_config(tmp_path)),
            SCORECARD_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
            SERVICENOW_INSTANCE_URL=instance.url,
            SERVICENOW_TOKEN=TOKEN,
            SERVICENOW_PAGE_SIZE="100",
        )
        requests = instance.requests
    finally:
        instance.stop()

    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "servicenow: authentication failed (HTTP 401)" in output
    assert "reading table incident at offset 300" in output
    # The refused request was the last: no retry of the request, no retry of the step.
    assert requests == 4
    assert step_attempts(run_events(home), "raw__servicenow") == 1
    assert TOKEN not in output
    assert files_holding(home, TOKEN) == []


def test_a_wrong_password_or_a_refused_account_names_the_source_not_the_secret(tmp_path):
    tables = demo_tables(demo_as_of())
    # 401: the instance checks the password itself; 403: the account lost its read role.
    for status, cause, faults in (
        (401, "authentication failed", Faults()),
        (403, "access denied", Faults(error_every=1, error_status=403)),
    ):
        instance = serve(tables, Credentials("reader", "the-right-one"), faults=faults)
        if status == 403:
            instance.api.credentials = Credentials("reader", PASSWORD)
        source = servicenow.from_env(
            {
                "SERVICENOW_INSTANCE_URL": instance.url,
                "SERVICENOW_USERNAME": "reader",
                "SERVICENOW_PASSWORD": PASSWORD,
            }
        )
        warehouse = Warehouse.at(tmp_path / f"{status}.duckdb")
        try:
            with warehouse.connect() as con, pytest.raises(PermanentSourceError) as refused:
                ingest(con, source, origin=instance.url)
            requests = instance.requests
        finally:
            instance.stop()
        message = str(refused.value)
        assert message.startswith(f"servicenow: {cause} (HTTP {status}); check "), message
        assert "reading table incident at offset 0" in message
        assert PASSWORD not in message and PASSWORD not in repr(refused.value.__context__)
        assert requests == 1
