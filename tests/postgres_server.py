"""A real PostgreSQL server for the tests: initdb into a temporary folder, started on loopback.

Import the `postgres` fixture into a test module. initdb refuses to run as root, so as root the
server runs as the `postgres` user (its folder owned by that user). Without the binaries the test
is skipped locally and fails in CI (require).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require

SUPERUSER = "scorecard_admin"


@dataclass(frozen=True)
class PostgresServer:
    port: int
    data_dir: Path

    def url(self, user: str = SUPERUSER, database: str = "postgres", password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql+psycopg://{user}{secret}@127.0.0.1:{self.port}/{database}"

    def dsn(self, user: str = SUPERUSER, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={user} dbname={database}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    require(
        all(shutil.which(tool) for tool in ("initdb", "pg_ctl", "postgres")),
        "PostgreSQL server binaries (initdb, pg_ctl) not on PATH",
    )
    # Not under pytest's own temporary folder: that is private to root, and the server user must
    # be able to reach its data folder.
    root = Path(tempfile.mkdtemp(prefix="scorecard-postgres-"))
    data_dir = root / "data"
    if os.geteuid() == 0:
        root.chmod(0o755)
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    subprocess.run(
        _as_server_user(["initdb", "-D", str(data_dir), "-A", "trust", "-U", SUPERUSER]),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_server_user(
            [
                "pg_ctl",
                "-D",
                str(data_dir),
                "-l",
                str(root / "server.log"),
                "-w",
                "start",
                "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield PostgresServer(port, data_dir)
    finally:
        subprocess.run(
            _as_server_user(["pg_ctl", "-D", str(data_dir), "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
