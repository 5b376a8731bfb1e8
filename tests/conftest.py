"""Fixtures shared by every test: a real DuckDB warehouse in a temporary folder."""

from __future__ import annotations

import os
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
