"""The night's last step: a source that could not be read fails the run, once the others were
scored and published, so the failure alert names it while BI still gets the night's figures."""

import dagster as dg

from pipelines.ingest import OWNERS, READ_CHECK

SOURCES_READ = dg.AssetKey(["scorecard", "sources_read"])


def read_results(instance: dg.DagsterInstance, run_id: str) -> dict[dg.AssetKey, str | None]:
    """Each source read in the run: None when read to its end, else the cause, in run order."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    return {
        evaluation.asset_key: None
        if evaluation.passed
        else evaluation.description or evaluation.asset_key.to_user_string()
        for evaluation in evaluations
        if evaluation.check_name == READ_CHECK
    }


def unread_sources(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The cause of each source not read in the run. A re-executed run ("from failure", or run
    retries after a crash) does not repeat the ingest step of a source that was not read, as that
    step succeeded: such a source counts as its latest run before left it, named with that run."""
    latest: dict[dg.AssetKey, str | None] = {}
    run = instance.get_run_by_id(run_id)
    while run is not None:
        for source, cause in read_results(instance, run.run_id).items():
            if source not in latest:
                since = "" if run.run_id == run_id else f" (not read again since run {run.run_id})"
                latest[source] = None if cause is None else cause + since
        run = instance.get_run_by_id(run.parent_run_id) if run.parent_run_id else None
    return [cause for cause in latest.values() if cause is not None]


def sources_read_asset(after: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=SOURCES_READ,
        group_name="scorecard",
        description="Whether every source was read tonight: fails the run naming each one that "
        "was not, after the others were scored, published and reported.",
        deps=after,
        kinds={"python"},
        owners=OWNERS,
    )
    def sources_read(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        unread = unread_sources(context.instance, context.run.run_id)
        if unread:
            raise dg.Failure(
                description="not read tonight (the other sources were scored and published; "
                f"the periods of these stay pending): {'; '.join(unread)}",
                allow_retries=False,
            )
        return dg.MaterializeResult(metadata={"sources_not_read": 0})

    return sources_read
