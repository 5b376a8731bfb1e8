"""The dead-run check finds the runs whose process died where it cannot ask about their process.

A run killed within its first second never recorded its process; a run recorded on a host that
was then replaced (a container recreated with a new hostname) cannot be asked about from here.
Left started, either would hold the queue of one run at a time.
"""

import re
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from pipelines import recovery
from pipelines.recovery import (
    ALIVE_TAG,
    HOST_TAG,
    PROCESS_RUN_TAG,
    PROCESS_TAG,
    fail_runs_whose_process_died,
)
from pipelines.resources import WarehouseResource


def started_run(instance: dg.DagsterInstance, tags: dict[str, str] | None = None) -> str:
    """A run whose worker reported its start, as the run left by a killed process is."""
    run = create_run_for_test(instance, job_name="nightly_scorecard", tags=tags)
    instance.report_dagster_event(
        dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name
        ),
        run.run_id,
    )
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    return run.run_id


def failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    (record,) = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.RUN_FAILURE
    ).records
    return record.event_log_entry.dagster_event.message


def recorded_on(host: str, run_id: str, alive: datetime) -> dict[str, str]:
    return {
        HOST_TAG: host,
        PROCESS_TAG: "4242:1234567",
        PROCESS_RUN_TAG: run_id,
        ALIVE_TAG: alive.isoformat(timespec="seconds"),
    }


def test_a_run_killed_before_it_recorded_its_process_is_failed_once_it_started_long_ago(
    monkeypatch,
):
    with dg.DagsterInstance.ephemeral() as instance:
        killed = started_run(instance)
        # Just started: it may be initialising its resources, which record the process.
        assert fail_runs_whose_process_died(instance, "the test") == []

        monkeypatch.setattr(recovery, "STALE_AFTER_SECONDS", 1.0)
        time.sleep(2.2)
        assert fail_runs_whose_process_died(instance, "the test") == [killed]
        assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
        # 2 seconds, or more on a busy machine.
        assert re.search(
            r"it never recorded its process, and logged nothing for [2-9] seconds",
            failure_message(instance, killed),
        )


def test_a_run_of_a_replaced_host_is_failed_once_it_stopped_saying_it_is_alive(monkeypatch):
    with dg.DagsterInstance.ephemeral() as instance:
        replaced, elsewhere = started_run(instance), started_run(instance)
        # Both recorded their process on a host other than this one, a while ago.
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        instance.add_run_tags(replaced, recorded_on("old-container", replaced, an_hour_ago))
        instance.add_run_tags(elsewhere, recorded_on("other-host", elsewhere, an_hour_ago))
        # They logged just now: both may live.
        assert fail_runs_whose_process_died(instance, "the test") == []

        monkeypatch.setattr(recovery, "STALE_AFTER_SECONDS", 1.0)
        time.sleep(2.2)
        # The live one said so since; the other host was replaced and says nothing.
        instance.add_run_tags(elsewhere, {ALIVE_TAG: datetime.now(UTC).isoformat()})
        assert fail_runs_whose_process_died(instance, "the test") == [replaced]
        assert instance.get_run_by_id(elsewhere).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(replaced).status == dg.DagsterRunStatus.FAILURE
        assert re.search(
            r"its process 4242 on old-container was last alive [2-9] seconds ago",
            failure_message(instance, replaced),
        )


def test_a_live_run_says_it_is_alive_until_it_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(recovery, "BEAT_SECONDS", 0.2)
    seen = {}

    @dg.asset
    def takes_a_while(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> None:
        first = context.instance.get_run_by_id(context.run.run_id).tags[ALIVE_TAG]
        time.sleep(2.5)
        seen["alive"] = [first, context.instance.get_run_by_id(context.run.run_id).tags[ALIVE_TAG]]

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [takes_a_while],
            instance=instance,
            resources={"warehouse": WarehouseResource(published_path=str(tmp_path / "w.duckdb"))},
        )
        assert result.success
        first, later = (datetime.fromisoformat(t) for t in seen["alive"])
        assert later > first
        time.sleep(0.6)
        ended = instance.get_run_by_id(result.run_id).tags[ALIVE_TAG]
        time.sleep(0.6)
        assert instance.get_run_by_id(result.run_id).tags[ALIVE_TAG] == ended
        assert result.run_id not in recovery._beating
