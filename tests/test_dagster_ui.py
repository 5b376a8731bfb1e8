"""What a data engineer finds on opening the UI, asked of a real dagster-webserver over GraphQL."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO, make_dagster_home, user_environment
from transforms.staging import CORE_TABLES

QUERY = """
{
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        locationOrLoadError {
          __typename
          ... on PythonError { message }
          ... on RepositoryLocation {
            repositories {
              name
              jobs { name }
              schedules { name }
              assetNodes {
                assetKey { path }
                groupName
                description
                kinds
                assetChecksOrError { ... on AssetChecks { checks { name } } }
              }
            }
          }
        }
      }
    }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory) -> str:
    scratch = tmp_path_factory.mktemp("webserver")
    home = make_dagster_home(scratch / "dagster")
    port = _free_port()
    command = [
        shutil.which("dagster-webserver", path=str(Path(sys.executable).parent)),
        "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    env = user_environment(home, SCORECARD_WAREHOUSE=str(scratch / "warehouse.duckdb"))
    server = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{url}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None, "dagster-webserver exited"
            assert time.monotonic() < deadline, "dagster-webserver did not start in 120 s"
            time.sleep(1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def repository(webserver) -> dict:
    reply = requests.post(f"{webserver}/graphql", json={"query": QUERY}, timeout=60)
    reply.raise_for_status()
    entries = reply.json()["data"]["workspaceOrError"]["locationEntries"]
    assert [entry["name"] for entry in entries] == ["itsm_scorecard"]
    location = entries[0]["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location
    (repo,) = location["repositories"]
    return repo


def test_the_job_and_the_schedule_are_listed(repository):
    assert "nightly_scorecard" in {job["name"] for job in repository["jobs"]}
    assert [s["name"] for s in repository["schedules"]] == ["nightly_scorecard_schedule"]


def test_every_asset_is_grouped_described_and_has_kinds(repository):
    assets = {"/".join(node["assetKey"]["path"]): node for node in repository["assetNodes"]}
    expected = {
        "preflight/configuration",
        *(f"core/{table}" for table in CORE_TABLES),
        "kpi/metric_values",
        "scorecard/metric_status",
        "publish/warehouse",
    }
    assert expected <= set(assets)
    # The demo's emulated sources, each with the kind of the system it stands for.
    assert {"servicenow", "aws", "azure"} <= {
        kind for key, node in assets.items() if key.startswith("raw/") for kind in node["kinds"]
    }
    for key, node in assets.items():
        assert node["groupName"] and node["groupName"] != "default", key
        assert node["description"], key
        assert node["kinds"], key


def test_every_asset_check_is_listed(repository):
    checks = {
        ("/".join(node["assetKey"]["path"]), check["name"])
        for node in repository["assetNodes"]
        for check in (node["assetChecksOrError"] or {}).get("checks", [])
    }
    for table in CORE_TABLES:
        for name in ("data_quality", "unique_ids", "non_null_keys", "times_in_order",
                     "source_freshness"):  # fmt: skip
            assert (f"core/{table}", name) in checks
    assert ("kpi/metric_values", "kpi_values_in_range") in checks
    assert ("publish/warehouse", "snapshot_readable") in checks
