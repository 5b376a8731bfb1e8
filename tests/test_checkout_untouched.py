"""The suite leaves the checkout's data/ and run storage exactly as it found them (runs last)."""

import os
from pathlib import Path

import dagster as dg

from tests.conftest import REPO, checkout_state


def test_in_process_dagster_uses_a_temporary_instance():
    home = Path(os.environ["DAGSTER_HOME"]).resolve()
    assert not home.is_relative_to(REPO)
    with dg.DagsterInstance.get() as instance:
        assert Path(instance.root_directory).resolve() == home


def test_the_suite_left_data_and_run_storage_untouched(checkout_at_start):
    before = checkout_at_start
    after = checkout_state()
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    assert (added, removed, changed) == ([], [], []), (
        f"tests wrote into the checkout: added {added[:20]}, removed {removed[:20]}, "
        f"changed {changed[:20]}"
    )
