"""A full disk or a read-only warehouse folder: a clear message naming the path, the published
warehouse byte for byte as it was, and the next run on a healthy disk catches up completely.

The disk fills by a file-size limit on the loading process (RLIMIT_FSIZE, any user may set it;
writes past it fail with EFBIG as they fail with ENOSPC on a full disk). The folder is made
read-only by a read-only bind mount when root (chmod does not stop root), by chmod otherwise.
"""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.emulators.catalogue import demo_as_of
from connectors.emulators.servicenow import DEMO_CREDENTIALS, serve
from connectors.emulators.servicenow_demo import demo_tables
from tests.conftest import REPO
from tests.faults.ground_truth import emulator_versions, raw_versions
from tests.faults.processes import loader_env

pytestmark = pytest.mark.faults


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_and_publish(
    warehouse: Path, env: dict[str, str], preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.faults.loader", str(warehouse), "--publish"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=preexec,
    )


def change_incidents(tables: dict, count: int) -> None:
    """Update `count` incidents at the source, so the next load has something to write."""
    for record in list(tables["incident"].scan())[:count]:
        tables["incident"].put(
            {**record, "sys_updated_on": "2030-01-01 00:00:00", "category": "network " * 200}
        )


@pytest.fixture
def instance():
    tables = demo_tables(demo_as_of())
    server = serve(tables, DEMO_CREDENTIALS)
    yield tables, loader_env(server.url, 1000)
    server.stop()


def test_a_full_disk_fails_with_the_path_named_and_the_published_copy_untouched(tmp_path, instance):
    tables, env = instance
    warehouse = tmp_path / "warehouse.duckdb"
    assert load_and_publish(warehouse, env).returncode == 0
    before = digest(warehouse)
    change_incidents(tables, 500)
    # Room for the old copy and a little more: the new copy (500 records 1.6 KB longer) is not.
    room = warehouse.stat().st_size + 64 * 1024

    def full_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    failed = load_and_publish(warehouse, env, full_disk)

    assert failed.returncode != 0
    message = failed.stderr.strip().splitlines()[-1]
    assert "File too large" in message and str(tmp_path) in message, message
    assert digest(warehouse) == before
    assert not list(tmp_path.glob(".warehouse.duckdb.*")), "temporary files left behind"

    assert load_and_publish(warehouse, env).returncode == 0
    assert raw_versions(warehouse) == emulator_versions(tables)


@pytest.fixture
def read_only():
    """Makes a folder read-only for this process and its children; undone at the end."""
    undo: list[list[str]] = []

    def make(folder: Path) -> None:
        if os.geteuid() == 0:
            subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
            undo.append(["umount", str(folder)])
            subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        else:
            for path in [folder, *folder.iterdir()]:
                path.chmod(0o555 if path.is_dir() else 0o444)
                undo.append(["chmod", "u+w", str(path)])

    yield make
    for command in reversed(undo):
        subprocess.run(command, check=True)


def test_a_read_only_warehouse_folder_fails_with_the_path_named_and_changes_nothing(
    tmp_path, instance, read_only
):
    tables, env = instance
    folder = tmp_path / "warehouse"
    folder.mkdir()
    warehouse = folder / "warehouse.duckdb"
    assert load_and_publish(warehouse, env).returncode == 0
    before = {path.name: digest(path) for path in folder.iterdir()}
    change_incidents(tables, 10)
    try:
        read_only(folder)
    except subprocess.CalledProcessError:
        pytest.skip("this sandbox cannot remount a folder read-only")

    failed = load_and_publish(warehouse, env)

    assert failed.returncode != 0
    message = failed.stderr.strip().splitlines()[-1]
    assert (
        f"cannot take the warehouse writer lock {folder}/warehouse.work.duckdb.lock" in message
    ), message
    assert f"the folder {folder} must be writable by this process" in message
    assert {path.name: digest(path) for path in folder.iterdir()} == before
