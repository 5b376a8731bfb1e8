"""Fixtures shared by every test: a real DuckDB warehouse and a Dagster instance in temporary folders.

Nothing a test runs may write into the checkout's data/ or run history: in-process Dagster gets a
session-wide temporary DAGSTER_HOME, every launch its own, and the last test checks the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.emulators.server import Call, Reply
from warehouse import Warehouse

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def require(condition: bool, reason: str) -> None:
    """Skip locally when a server or data set is missing; fail in CI, where all must be present."""
    if condition:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse.at(tmp_path / "warehouse.duckdb")


@pytest.fixture
def shared_data() -> Path:
    require(SHARED_DATA.is_dir(), f"shared data folder {SHARED_DATA} not found")
    return SHARED_DATA


REPO = Path(__file__).resolve().parents[1]


class Webhook:
    """A chat webhook: records every message posted to it (serve it with EmulatorServer)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[dict] = []

    def handle(self, call: Call) -> Reply:
        self.received.append(call.json())
        return Reply(self.status, {"ok": self.status == 200})

    def texts(self) -> list[str]:
        return [message["text"] for message in list(self.received)]


SOURCE_VARIABLES = (
    "SCORECARD_",
    "SERVICENOW_",
    "JIRA_",
    "PAGERDUTY_",
    "FRESHSERVICE_",
    "FOCUS_",
    "AWS_",
    "AZURE_",
    "MEASURES_",
)
VENV = Path(sys.executable).parent.parent


def make_dagster_home(path: Path) -> Path:
    """A DAGSTER_HOME with the project's instance settings (dagster.yaml has no paths in it)."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", path / "dagster.yaml")
    return path


def user_environment(home: Path, **env: str) -> dict[str, str]:
    """This process's environment without any scorecard or source setting, plus the given ones."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(SOURCE_VARIABLES) and k != "DAGSTER_HOME"
    }
    return {**clean, "DAGSTER_HOME": str(home), "VIRTUAL_ENV": str(VENV), **env}


def dg_command(*args: str) -> list[str]:
    return [shutil.which("dg", path=str(Path(sys.executable).parent)) or "dg", *args]


def launch_nightly_job(
    check: bool = True, dagster_home: Path | None = None, timeout: float = 900, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `dg launch --job nightly_scorecard` as a user would, with only the given settings.

    Each launch gets its own DAGSTER_HOME and, unless SCORECARD_WAREHOUSE is given, its own
    warehouse (both in a fresh temporary folder), so tests never write into the checkout.
    """
    scratch = Path(tempfile.mkdtemp(prefix="nightly-"))
    home = make_dagster_home(dagster_home or scratch / "dagster")
    env.setdefault("SCORECARD_WAREHOUSE", str(scratch / "warehouse.duckdb"))
    run = subprocess.run(
        dg_command("launch", "--job", "nightly_scorecard"),
        cwd=REPO,
        env=user_environment(home, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


@pytest.fixture(scope="session", autouse=True)
def isolated_dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """In-process Dagster (and any subprocess a test starts) uses a temporary instance."""
    home = make_dagster_home(tmp_path_factory.mktemp("dagster-home"))
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = previous


# What a Dagster instance writes into its DAGSTER_HOME, should that ever be the checkout.
DAGSTER_HOME_ENTRIES = (
    ".nux",
    ".logs_queue",
    ".telemetry",
    "history",
    "logs",
    "schedules",
    "storage",
)


SCREENSHOTS = Path(__file__).resolve().parents[1] / "data" / "reports" / "screenshots"


def _more_than_screenshots(top: Path) -> bool:
    """A folder counts as there unless it only exists to hold the report screenshots."""
    if not SCREENSHOTS.is_relative_to(top):
        return True
    return any(
        not (SCREENSHOTS.is_relative_to(p) or p.is_relative_to(SCREENSHOTS)) for p in top.rglob("*")
    )


def checkout_state() -> dict[str, tuple[int, int]]:
    """Every file under data/ and every Dagster entry at the top of the checkout: size and mtime."""
    state: dict[str, tuple[int, int]] = {}
    tops = [REPO / "data", *(REPO / name for name in DAGSTER_HOME_ENTRIES)]
    tops += REPO.glob(".tmp_dagster_home_*")
    for top in tops:
        paths = [top] if top.is_file() else top.rglob("*")
        for path in paths:
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue  # removed while listing
            if path.is_relative_to(SCREENSHOTS):
                continue  # the report test's pictures for people: the one sanctioned write
            if not path.is_dir():
                state[str(path.relative_to(REPO))] = (info.st_size, info.st_mtime_ns)
        if top.is_dir() and _more_than_screenshots(top):
            state.setdefault(str(top.relative_to(REPO)) + "/", (0, 0))
    return state


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[CHECKOUT_AT_START] = checkout_state()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The checkout check runs last, after everything else had its chance to write."""
    items.sort(key=lambda item: item.path.name == "test_checkout_untouched.py")


CHECKOUT_AT_START = pytest.StashKey[dict[str, tuple[int, int]]]()


@pytest.fixture(scope="session")
def checkout_at_start(request: pytest.FixtureRequest) -> dict[str, tuple[int, int]]:
    """What checkout_state() was when the session started."""
    return request.config.stash[CHECKOUT_AT_START]
