"""A run's "now": SCORECARD_AS_OF, else the tick of the schedule that launched the run, else the
current time."""

from datetime import datetime

import dagster as dg
from dagster._core.storage.tags import SCHEDULED_EXECUTION_TIME_TAG

from settings.clock import run_as_of


def run_instant(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, timezone: str
) -> datetime:
    """The instant the run scores. A scheduled run carries its tick as a tag, and so do its
    retries and re-executions, so a run retried the next day still scores the night it was
    scheduled for, not the day the retry ran."""
    tick = context.run.tags.get(SCHEDULED_EXECUTION_TIME_TAG)
    return run_as_of(timezone=timezone, default=datetime.fromisoformat(tick) if tick else None)
