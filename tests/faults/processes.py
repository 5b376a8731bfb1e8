"""Start the killable loader (tests/faults/loader.py) against an emulated instance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from connectors.emulators.servicenow import DEMO_CREDENTIALS
from tests.conftest import REPO


def loader_env(url: str, page_size: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICENOW_", "SCORECARD_"))}
    return {
        **env,
        "PYTHONPATH": str(REPO),
        "SERVICENOW_INSTANCE_URL": url,
        "SERVICENOW_USERNAME": DEMO_CREDENTIALS.username,
        "SERVICENOW_PASSWORD": DEMO_CREDENTIALS.password,
        "SERVICENOW_PAGE_SIZE": str(page_size),
    }


def start_loader(warehouse: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.loader", str(warehouse)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def run_to_the_end(warehouse: Path, env: dict[str, str]) -> dict:
    finished = subprocess.run(
        [sys.executable, "-m", "tests.faults.loader", str(warehouse)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout.strip().splitlines()[-1].removeprefix("done "))
