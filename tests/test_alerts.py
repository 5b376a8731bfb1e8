"""A failed run is logged and reported to the webhook, whose URL never leaks into the log."""

from pathlib import Path

import dagster as dg
import pytest

from connectors.emulators.server import EmulatorServer
from pipelines.alerts import WEBHOOK_ATTEMPTS, failure_alert_sensor
from pipelines.ingest import ingest_asset, raw_key
from pipelines.outcome import sources_read_asset
from pipelines.resources import SourcesResource, WarehouseResource
from tests.conftest import Webhook


@dg.op
def breaks() -> None:
    raise RuntimeError("source went away")


@dg.job
def failing_job() -> None:
    breaks()


def failure_context() -> dg.RunFailureSensorContext:
    instance = dg.DagsterInstance.ephemeral()
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    return dg.build_run_status_sensor_context(
        sensor_name="scorecard_run_failure_alert",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    ).for_run_failure()


def test_failed_run_is_posted_to_the_webhook():
    hook = Webhook()
    with EmulatorServer(hook) as server:
        context = failure_context()
        failure_alert_sensor(f"{server.url}/hooks/secret-token")(context)
    assert len(hook.received) == 1
    text = hook.received[0]["text"]
    assert context.dagster_run.run_id in text
    assert "failing_job failed" in text
    # The cause comes first, not Dagster's "Steps failed" summary.
    assert "failed: step breaks: RuntimeError: source went away" in text


def test_undeliverable_webhook_is_tried_again_and_logged_without_its_url(capfd, monkeypatch):
    monkeypatch.setenv("SCORECARD_HTTP_RETRY_DELAY", "0.01")
    hook = Webhook(status=500)
    with EmulatorServer(hook) as server:
        failure_alert_sensor(f"{server.url}/hooks/secret-token")(failure_context())
    assert len(hook.received) == WEBHOOK_ATTEMPTS == 3
    log = capfd.readouterr().err
    assert "failure webhook not delivered after 3 attempt(s): HTTP 500" in log
    assert "secret-token" not in log


def test_a_webhook_that_refuses_the_message_is_not_tried_again(capfd, monkeypatch):
    monkeypatch.setenv("SCORECARD_HTTP_RETRY_DELAY", "0.01")
    hook = Webhook(status=404)
    with EmulatorServer(hook) as server:
        failure_alert_sensor(f"{server.url}/hooks/secret-token")(failure_context())
    assert len(hook.received) == 1
    assert "failure webhook not delivered after 1 attempt(s): HTTP 404" in capfd.readouterr().err


def test_a_webhook_url_that_cannot_be_parsed_is_logged_not_raised(capfd):
    failure_alert_sensor("https://[::1/hooks/secret-token")(failure_context())
    log = capfd.readouterr().err
    assert "failure webhook not delivered after 1 attempt(s)" in log
    assert "secret-token" not in log


def test_without_a_webhook_the_sensor_only_logs():
    failure_alert_sensor(None)(failure_context())


@dg.op
def refuses() -> None:
    raise dg.Failure(
        description="servicenow: authentication failed (HTTP 401)", allow_retries=False
    )


@dg.job
def refused_job() -> None:
    refuses()


def alert_text(job: dg.JobDefinition) -> str:
    """Run the failing job and return the text the failure alert posts about it."""
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    context = dg.build_run_status_sensor_context(
        sensor_name="scorecard_run_failure_alert",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    ).for_run_failure()
    hook = Webhook()
    with EmulatorServer(hook) as server:
        failure_alert_sensor(f"{server.url}/hooks/secret-token")(context)
    return hook.received[0]["text"]


def test_a_failure_description_is_the_alert_text():
    assert alert_text(refused_job).endswith(
        "failed: step refuses: servicenow: authentication failed (HTTP 401)"
    )


@dg.op
def reads_jira() -> None:
    raise dg.Failure(description="jira: authentication failed (HTTP 401)", allow_retries=False)


@dg.op
def reads_servicenow() -> None:
    raise dg.Failure(description="servicenow: HTTP 503 after 5 attempts", allow_retries=False)


@dg.job
def two_sources_refused_job() -> None:
    reads_jira()
    reads_servicenow()


def test_the_alert_names_every_failed_step_not_only_the_first():
    """Two sources failed the same night: fixing the one named must not hide the other."""
    text = alert_text(two_sources_refused_job)
    assert text.endswith(
        "failed: step reads_jira: jira: authentication failed (HTTP 401); "
        "step reads_servicenow: servicenow: HTTP 503 after 5 attempts"
    ), text


def night_with_a_file_that_is_not_focus(
    folder: Path, monkeypatch: pytest.MonkeyPatch, publish_fails: bool
) -> dg.JobDefinition:
    """FOCUS not read (FOCUS_PATHS names a CUR export), then publish, then the last step."""
    export = folder / "costs.csv"
    export.write_text("lineItem/UsageStartDate,lineItem/UnblendedCost\n2026-10-01T00:00:00Z,1\n")
    monkeypatch.setenv("FOCUS_PATHS", str(export))

    @dg.asset(deps=[raw_key("focus")])
    def publishes() -> None:
        if publish_fails:
            raise dg.Failure(description="disk full writing the snapshot", allow_retries=False)

    return dg.Definitions(
        assets=[ingest_asset("focus"), publishes, sources_read_asset([publishes.key])],
        resources={
            "warehouse": WarehouseResource(published_path=str(folder / "warehouse.duckdb")),
            "sources": SourcesResource(),
        },
        jobs=[dg.define_asset_job("night", selection="*")],
    ).resolve_job_def("night")


NOT_FOCUS = (
    "focus: {export} is not a FOCUS export (1.0-preview to 1.3): missing mandatory column(s) "
    "BilledCost, EffectiveCost, ListCost, BillingPeriodStart"
)


def test_a_source_not_read_is_in_the_alert_also_when_a_later_step_failed(tmp_path, monkeypatch):
    """The last step, which names the sources not read, is skipped after a failed step; the alert
    must still name them, not only the step that failed."""
    text = alert_text(night_with_a_file_that_is_not_focus(tmp_path, monkeypatch, True))
    cause = NOT_FOCUS.format(export=tmp_path / "costs.csv")
    assert f"failed: step publishes: disk full writing the snapshot; not read: {cause}" in text


def test_a_source_not_read_is_named_once_when_the_last_step_failed_for_it(tmp_path, monkeypatch):
    text = alert_text(night_with_a_file_that_is_not_focus(tmp_path, monkeypatch, False))
    cause = NOT_FOCUS.format(export=tmp_path / "costs.csv")
    assert "failed: step scorecard__sources_read: not read tonight" in text
    assert text.count(cause) == 1, text


def test_a_bad_retry_delay_does_not_keep_its_own_failure_from_the_webhook(monkeypatch):
    """The preflight fails the run over SCORECARD_HTTP_RETRY_DELAY; the alert still goes out."""
    monkeypatch.setenv("SCORECARD_HTTP_RETRY_DELAY", "soon")
    hook = Webhook()
    with EmulatorServer(hook) as server:
        failure_alert_sensor(f"{server.url}/hooks/secret-token")(failure_context())
    assert len(hook.received) == 1


def test_the_webhook_waits_stay_inside_a_sensor_tick(monkeypatch, capfd):
    """A source's retry delay may be a minute; the sensor tick has 60 seconds in all."""
    monkeypatch.setenv("SCORECARD_HTTP_RETRY_DELAY", "60")
    slept = []
    monkeypatch.setattr("pipelines.alerts.time.sleep", slept.append)
    hook = Webhook(status=503)
    with EmulatorServer(hook) as server:
        failure_alert_sensor(f"{server.url}/hooks/secret-token")(failure_context())
    assert len(hook.received) == WEBHOOK_ATTEMPTS
    assert sum(slept) <= 3  # 1 + 2 seconds at most
    assert "after 3 attempt(s): HTTP 503" in capfd.readouterr().err
