"""The night's last step: a source that could not be read fails the run, once the others were
scored and published, so the failure alert names it while BI still gets the night's figures."""

import dagster as dg

from pipelines.ingest import OWNERS, READ_CHECK

SOURCES_READ = dg.AssetKey(["scorecard", "sources_read"])


def unread_sources(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The cause of each source read check that failed in the run, in the order they failed."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    return [
        evaluation.description or evaluation.asset_key.to_user_string()
        for evaluation in evaluations
        if evaluation.check_name == READ_CHECK and not evaluation.passed
    ]


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
        unread = unread_sources(context.instance, context.run_id)
        if unread:
            raise dg.Failure(
                description="not read tonight (the other sources were scored and published; "
                f"the periods of these stay pending): {'; '.join(unread)}",
                allow_retries=False,
            )
        return dg.MaterializeResult(metadata={"sources_not_read": 0})

    return sources_read
