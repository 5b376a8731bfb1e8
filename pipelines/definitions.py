"""The code location: sources from scorecard.yaml / SCORECARD_SOURCES, or the built-in demo."""

import os
from pathlib import Path

import dagster as dg

from connectors.emulators.demo import demo_sources
from pipelines.alerts import failure_alert_sensor, success_summary_sensor
from pipelines.checks import all_checks
from pipelines.core import core_assets, core_key
from pipelines.ingest import ingest_asset
from pipelines.kpi import METRIC_VALUES, kpi_asset
from pipelines.outcome import sources_read_asset
from pipelines.preflight import configuration
from pipelines.publish import PUBLISHED_POSTGRES, postgres_publish_asset, publish_asset
from pipelines.recovery import MAX_RUNTIME_TAG, dead_run_sensor
from pipelines.report import EXECUTIVE_SUMMARY, report_asset
from pipelines.resources import SourcesResource, WarehouseResource
from pipelines.scorecard import METRIC_STATUS, scorecard_asset
from settings import enabled_sources, load_settings
from transforms.staging import CORE_TABLES
from warehouse.postgres import publishing
from warehouse.store import DEFAULT_MEMORY_LIMIT, DEFAULT_WAREHOUSE

settings = load_settings()
requested = enabled_sources(settings)
demo = "demo" in requested
sources = demo_sources() if demo else requested

assets = [
    configuration,
    *[
        ingest_asset(
            s, settings.full_refresh(s), settings.refresh_every(s), settings.calendar.timezone
        )
        for s in sources
    ],
    *core_assets(sources),
    kpi_asset(settings),
    scorecard_asset(settings),
    publish_asset([*[core_key(t) for t in CORE_TABLES], METRIC_VALUES, METRIC_STATUS]),
    report_asset(settings),
    *([postgres_publish_asset()] if publishing() else []),
    sources_read_asset([EXECUTIVE_SUMMARY, *([PUBLISHED_POSTGRES] if publishing() else [])]),
]

published = str(Path(os.environ.get("SCORECARD_WAREHOUSE") or DEFAULT_WAREHOUSE).expanduser())

nightly_scorecard = dg.define_asset_job(
    "nightly_scorecard",
    selection=dg.AssetSelection.all(),
    description="All sources, all KPIs, the scorecard and the published snapshot.",
    executor_def=dg.in_process_executor,
    tags=(
        {MAX_RUNTIME_TAG: str(round(settings.schedule.max_runtime_hours * 3600))}
        if settings.schedule.max_runtime_hours
        else None
    ),
)

defs = dg.Definitions(
    assets=assets,
    asset_checks=all_checks(settings.calendar.timezone),
    jobs=[nightly_scorecard],
    schedules=[
        dg.ScheduleDefinition(
            name="nightly_scorecard_schedule",
            job=nightly_scorecard,
            cron_schedule=settings.schedule.cron,
            execution_timezone=settings.schedule_timezone,
            description=(
                "Runs nightly_scorecard at schedule.cron in the schedule's time zone "
                f"({settings.schedule.cron}, {settings.schedule_timezone})."
            ),
            default_status=dg.DefaultScheduleStatus.RUNNING,
        )
    ],
    sensors=[
        failure_alert_sensor(settings.notifications.webhook_url),
        dead_run_sensor(),
        *(
            [success_summary_sensor(settings.notifications.webhook_url, nightly_scorecard.name)]
            if settings.notifications.success_summary
            else []
        ),
    ],
    resources={
        "warehouse": WarehouseResource(
            published_path=published,
            working_path=os.environ.get("SCORECARD_WORK_DATABASE") or None,
            memory_limit=os.environ.get("SCORECARD_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
        ),
        "sources": SourcesResource(demo=demo, demo_workdir=str(Path(published).parent / "demo")),
    },
)
