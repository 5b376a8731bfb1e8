"""The executive summary asset: the one-pager, service pages and dictionary in SCORECARD_REPORTS."""

from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.clock import run_instant
from pipelines.ingest import OWNERS
from pipelines.publish import PUBLISHED
from pipelines.resources import WarehouseResource
from settings import Settings

EXECUTIVE_SUMMARY = dg.AssetKey(["scorecard", "executive_summary"])


def report_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        key=EXECUTIVE_SUMMARY,
        group_name="scorecard",
        description=(
            "One A4 page per scorecard for leaders (HTML and Markdown in SCORECARD_REPORTS, dated "
            "copies kept), service-owner pages and the metric dictionary; read from the "
            "published warehouse."
        ),
        deps=[PUBLISHED],
        kinds={"html"},
        owners=OWNERS,
    )
    def executive_summary(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        import duckdb

        from reports import reports_folder, write_reports
        from transforms.catalogue import load_catalogue
        from transforms.kpis import values_as_of

        names = {metric.id: metric.name for metric in load_catalogue()}
        names |= {k: v.name for k, v in settings.metrics.items() if v.name}
        published = warehouse.get().published_path
        zone = settings.calendar.timezone
        # Dated by the as-of the published values were computed for, as the scoring step judges
        # them, not this step's clock: a run that crosses midnight, or a report retried days
        # later, shows the day its figures are as of.
        with duckdb.connect(str(published), read_only=True) as con:
            as_of = values_as_of(con) or run_instant(context, zone)
        files = write_reports(
            published,
            reports_folder(published),
            settings.name,
            as_of.astimezone(ZoneInfo(zone)).date().isoformat(),
            names,
            scorecard_names={
                settings.scorecard_id: settings.name,
                **{key: card.name for key, card in settings.scorecards.items() if card.name},
            },
            timezone=zone,
        )
        context.log.info(
            f"executive summary of {files.scorecards} scorecard(s): {files.latest_html}"
        )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(files.latest_html.resolve())),
                "markdown_path": dg.MetadataValue.path(str(files.latest_markdown.resolve())),
                "dated_copies": [str(p) for p in files.dated],
                "scorecards": files.scorecards,
                "preview": dg.MetadataValue.md(files.markdown),
            }
        )

    return executive_summary
