"""The nightly job's first step: the check `itsm-scorecard check-config` runs, before any load."""

import dagster as dg

from settings.preflight import preflight

CONFIGURATION = dg.AssetKey(["preflight", "configuration"])


@dg.asset(
    key=CONFIGURATION,
    group_name="ingest",
    description=(
        "The configuration a run needs (scorecard.yaml, each enabled source's variables, file "
        "globs, metric ids and goals, time zone, cron, SCORECARD_AS_OF, the warehouse folder), "
        "checked without calling a source. Every ingest asset waits for it, so a bad setting "
        "fails the run here in seconds, with every problem listed and no retries."
    ),
    kinds={"python"},
    owners=["team:data-engineering"],
)
def configuration(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    result = preflight()
    if not result.ok:
        # Retrying cannot fix a setting; the report is the failure's headline on the run page.
        raise dg.Failure(description=result.report(), allow_retries=False)
    context.log.info(f"configuration OK: sources {', '.join(result.sources)}")
    return dg.MaterializeResult(metadata={"sources": ", ".join(result.sources)})
