"""What a successful nightly run did, in one message a team reads in the morning.

Rows loaded and files refused per source come from the run's own materializations; what was
quarantined and which metrics changed status come from the snapshot the run published, read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.publish import PUBLISHED
from reports.executive import period_label
from transforms.kpis import quarantined_values

SQL = Path(__file__).with_name("sql")


@dataclass(frozen=True)
class StatusChange:
    scorecard_id: str
    metric_id: str
    grain: str
    period_start: date
    previous: str
    status: str


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    job_name: str
    loaded: dict[str, int]
    quarantined: int
    changes: list[StatusChange]
    # Files a file source refused while the run went on with the others, by source.
    refused: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        loaded = ", ".join(f"{source} {rows:,}" for source, rows in sorted(self.loaded.items()))
        # Periods named as the executive page names them ("November 2026", "Q4 2026").
        changes = "; ".join(
            f"{c.scorecard_id}/{c.metric_id} ({period_label(c.grain, c.period_start)}) "
            f"{c.previous} -> {c.status}"
            for c in self.changes
        )
        return "\n".join(
            [
                f"ITSM Scorecard run {self.run_id} of job {self.job_name} succeeded.",
                f"Loaded (records per source): {loaded or 'nothing'}.",
                f"Quarantined KPI values: {self.quarantined}.",
                f"Status changes in the latest complete period: {changes or 'none'}.",
            ]
            + [
                f"Files refused by {source}: {problems}"
                for source, problems in self.refused.items()
            ]
        )


def summarise_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunSummary:
    loaded, refused, published = _materializations(instance, run.run_id)
    quarantined, changes = scorecard_news(published) if published else (0, [])
    return RunSummary(run.run_id, run.job_name, loaded, quarantined, changes, refused)


def _materializations(
    instance: dg.DagsterInstance, run_id: str
) -> tuple[dict[str, int], dict[str, str], Path | None]:
    loaded: dict[str, int] = {}
    refused: dict[str, str] = {}
    published = None
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        if materialization is None:
            continue
        key, metadata = materialization.asset_key, materialization.metadata
        if key.path[0] == "raw" and "records_received" in metadata:
            loaded[key.path[-1]] = int(metadata["records_received"].value)
            if "files_refused" in metadata:
                refused[key.path[-1]] = str(metadata["files_refused"].value)
        elif key == PUBLISHED and "path" in metadata:
            published = Path(str(metadata["path"].value))
    return loaded, refused, published


def scorecard_news(published: Path) -> tuple[int, list[StatusChange]]:
    """Quarantined KPI values and status changes in the published snapshot."""
    with duckdb.connect(str(published), read_only=True) as con:
        quarantined = len(quarantined_values(con))
        changes = [StatusChange(*row) for row in con.execute(_sql("status_changes")).fetchall()]
    return quarantined, changes


def _sql(name: str) -> str:
    return (SQL / f"{name}.sql").read_text(encoding="utf-8")
