"""Fixtures shared by every test: a real DuckDB warehouse in a temporary folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

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
SOURCE_VARIABLES = ("SCORECARD_", "SERVICENOW_", "FOCUS_", "AWS_", "AZURE_", "MEASURES_")


def launch_nightly_job(
    check: bool = True, dagster_home: Path | None = None, timeout: float = 900, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `dg launch --job nightly_scorecard` as a user would, with only the given settings.

    Each launch gets its own DAGSTER_HOME (a fresh temporary folder unless one is given), so tests
    never write into the checkout's run history.
    """
    dg = shutil.which("dg", path=str(Path(sys.executable).parent)) or "dg"
    home = dagster_home or Path(tempfile.mkdtemp(prefix="dagster-home-"))
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(SOURCE_VARIABLES) and k != "DAGSTER_HOME"
    }
    run = subprocess.run(
        [dg, "launch", "--job", "nightly_scorecard"],
        cwd=REPO,
        env={**clean, "DAGSTER_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run
