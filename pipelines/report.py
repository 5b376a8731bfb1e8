"""The executive summary asset: the one-pager, service pages and dictionary in SCORECARD_REPORTS."""

import dagster as dg

from pipelines.ingest import OWNERS
from pipelines.publish import PUBLISHED
from pipelines.resources import WarehouseResource
from settings import Settings
from settings.clock import run_day

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
        from reports import reports_folder, write_reports
        from transforms.catalogue import load_catalogue

        names = {metric.id: metric.name for metric in load_catalogue()}
        names |= {k: v.name for k, v in settings.metrics.items() if v.name}
        published = warehouse.get().published_path
        files = write_reports(
            published,
            reports_folder(published),
            settings.name,
            run_day(timezone=settings.calendar.timezone),
            names,
            scorecard_names={
                settings.scorecard_id: settings.name,
                **{key: card.name for key, card in settings.scorecards.items() if card.name},
            },
            timezone=settings.calendar.timezone,
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
