"""A failed run is logged and reported to the webhook, whose URL never leaks into the log."""

import dagster as dg

from connectors.emulators.server import EmulatorServer
from pipelines.alerts import failure_alert_sensor
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


def test_undeliverable_webhook_is_logged_without_its_url(capfd):
    hook = Webhook(status=500)
    with EmulatorServer(hook) as server:
        failure_alert_sensor(f"{server.url}/hooks/secret-token")(failure_context())
    assert len(hook.received) == 1
    log = capfd.readouterr().err
    assert "failure webhook not delivered: HTTPError" in log
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
