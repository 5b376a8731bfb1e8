"""Tell someone when the nightly run fails: the run log always, a webhook when configured."""

import dagster as dg
import requests


def failure_alert_sensor(webhook_url: str | None) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="scorecard_run_failure_alert",
        description="Logs every failed run and posts a short message to the configured webhook.",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _alert(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        message = f"ITSM Scorecard run {run.run_id} of job {run.job_name} failed: " + (
            context.failure_event.message or "see the run log"
        )
        context.log.error(message)
        if not webhook_url:
            return
        try:
            response = requests.post(webhook_url, json={"text": message}, timeout=10)
            response.raise_for_status()
        except requests.RequestException as exc:
            # The URL often embeds a token: report the failure without it.
            context.log.error(f"failure webhook not delivered: {type(exc).__name__}")

    return _alert
