"""Tell someone how the nightly run went: the run log always, a webhook when configured.

`dg launch` executes a run in the launching process, so the run carries no code-location origin;
a sensor that watched only its own code location would skip such runs and move its cursor past
them. These sensors watch every run of the instance, which is this project's (DAGSTER_HOME).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping

import dagster as dg
import requests

from connectors.http import (
    HTTP_RETRY_DELAY,
    RETRY_DELAYS,
    RETRY_STATUSES,
    SourceError,
    retry_delay,
)
from pipelines.outcome import SOURCES_READ, unread_sources
from pipelines.recovery import over_time
from pipelines.run_summary import summarise_run


def failure_alert_sensor(webhook_url: str | None) -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="scorecard_run_failure_alert",
        description="Logs every failed run and posts a short message to the configured webhook.",
        default_status=dg.DefaultSensorStatus.RUNNING,
        monitor_all_code_locations=True,
    )
    def _alert(context: dg.RunFailureSensorContext) -> None:
        run = context.dagster_run
        cause = failure_cause(context.instance, run.run_id) or context.failure_event.message
        message = f"ITSM Scorecard run {run.run_id} of job {run.job_name} failed: " + (
            cause or "see the run log"
        )
        context.log.error(message)
        post(webhook_url, message, "failure", context.log)

    return _alert


def success_summary_sensor(webhook_url: str | None, job_name: str) -> dg.SensorDefinition:
    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        name="scorecard_run_success_summary",
        description=(
            "After each successful nightly run, posts what loaded, what was quarantined and the "
            "scorecard's status changes (notifications.success_summary)."
        ),
        default_status=dg.DefaultSensorStatus.RUNNING,
        monitor_all_code_locations=True,
    )
    def _summary(context: dg.RunStatusSensorContext) -> None:
        if context.dagster_run.job_name != job_name:
            return
        message = summarise_run(context.instance, context.dagster_run).text()
        context.log.info(message)
        post(webhook_url, message, "success summary", context.log)

    return _summary


def failure_cause(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """Each failed step and why, so the alert leads with the causes, not Dagster's summary.

    Every one: the run goes on past a failed source, and a second source failing the same night
    must not come to light only once the first is fixed. The sources not read are named by the
    run's last step; when a failed step kept that step from running, they are added here.
    """
    causes, named_unread = [stopped] if (stopped := over_time(instance, run_id)) else [], False
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        failure = event.step_failure_data if event else None
        if failure is None:
            continue
        if failure.user_failure_data and failure.user_failure_data.description:
            reason = failure.user_failure_data.description
        elif failure.error:
            error = failure.error.cause or failure.error
            reason = error.message.strip()
        else:
            continue
        causes.append(f"step {event.step_key}: {reason}")
        named_unread |= event.step_key == SOURCES_READ.to_python_identifier()
    if not named_unread and (unread := unread_sources(instance, run_id)):
        causes.append(f"not read: {'; '.join(unread)}")
    return "; ".join(causes) or None


# A chat service that is briefly down or throttling gets the message on a later attempt; the
# waits (SCORECARD_HTTP_RETRY_DELAY, doubling, the first at most WEBHOOK_MAX_WAIT) keep a sensor
# tick well inside its time limit (60 seconds by default), whatever delay the sources are given.
WEBHOOK_ATTEMPTS = 3
WEBHOOK_MAX_WAIT = 1.0


def webhook_wait(env: Mapping[str, str]) -> float:
    """The first wait between webhook attempts. A delay the preflight refuses (and fails the run
    over) takes the default here, so that the failure still reaches the webhook."""
    try:
        wait = retry_delay(env, HTTP_RETRY_DELAY)
    except SourceError:
        wait = RETRY_DELAYS[HTTP_RETRY_DELAY][0]
    return min(wait, WEBHOOK_MAX_WAIT)


def post(webhook_url: str | None, message: str, kind: str, log: logging.Logger) -> None:
    """Post `{"text": message}`, again after a transient failure (no answer, or a status the
    sources retry too: RETRY_STATUSES); a delivery problem is logged without the URL (it holds
    a token)."""
    if not webhook_url:
        return
    wait = webhook_wait(os.environ)
    for attempt in range(1, WEBHOOK_ATTEMPTS + 1):
        try:
            response = requests.post(webhook_url, json={"text": message}, timeout=10)
            response.raise_for_status()
            return
        except (requests.ConnectionError, requests.Timeout) as exc:
            problem = type(exc).__name__
        except requests.HTTPError as exc:
            problem = f"HTTP {exc.response.status_code}"
            if exc.response.status_code not in RETRY_STATUSES:
                break
        except (requests.RequestException, ValueError) as exc:  # a URL that cannot be sent to
            problem = type(exc).__name__
            break
        if attempt < WEBHOOK_ATTEMPTS:
            time.sleep(wait * 2 ** (attempt - 1))
    log.error(f"{kind} webhook not delivered after {attempt} attempt(s): {problem}")
