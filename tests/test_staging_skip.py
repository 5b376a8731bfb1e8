"""Staging is skipped when nothing its queries read has changed since the last restage, and
restages on any doubt: a changed record, SQL file or spreadsheet, a full refresh, lost rows,
or a run killed before its restage committed."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg

from connectors.base import Page, Stream
from connectors.emulators.aws_cost_explorer import CostExplorerApi
from connectors.emulators.focus_demo import AWS_LINES
from connectors.emulators.server import EmulatorServer
from connectors.focus import FocusFiles
from connectors.measures import from_env
from pipelines.core import core_asset
from pipelines.resources import WarehouseResource
from tests.conftest import REPO
from tests.test_costs_aws import AS_OF, connector
from transforms.staged_inputs import Fingerprint, fingerprint, query_inputs
from transforms.staging import stage
from warehouse.ingest import ingest
from warehouse.landing import land_page

INCIDENTS = Stream("incident", "sys_id", "sys_updated_on")


def incident(sys_id: str, updated: str, priority: str, state: str = "2") -> dict:
    """An incident as ServiceNow returns it with sysparm_display_value=all."""
    fields = {
        "sys_id": sys_id,
        "number": f"INC{sys_id[-4:]}",
        "sys_updated_on": updated,
        "opened_at": "2024-03-01 10:00:00",
        "priority": priority,
        "state": state,
    }
    return {name: {"display_value": value, "value": value} for name, value in fields.items()}


def land(con, *records: dict) -> None:
    land_page(con, "servicenow", INCIDENTS, Page(list(records), None))


def core_incidents(con) -> list[tuple]:
    return con.execute(
        "SELECT incident_id, priority, state, updated_at FROM core.incidents "
        "WHERE source = 'servicenow' ORDER BY incident_id"
    ).fetchall()


def staged_at(con, table: str) -> object:
    return con.execute(
        "SELECT staged_at FROM meta.staging_fingerprints "
        "WHERE source = 'servicenow' AND table_name = ?",
        [table],
    ).fetchall()[0][0]


def test_an_unchanged_night_skips_staging_and_keeps_core_as_it_was(warehouse):
    with warehouse.connect() as con:
        land(con, incident("inc0001", "2024-03-01 11:00:00", "1"))
        land(con, incident("inc0002", "2024-03-02 11:00:00", "bogus"))
        first = stage(con, "servicenow", "incidents")
        before = core_incidents(con)
        noted = con.execute("SELECT * FROM scorecard.data_quality ORDER BY ALL").fetchall()
        again = stage(con, "servicenow", "incidents")
        after = core_incidents(con)
        noted_after = con.execute("SELECT * FROM scorecard.data_quality ORDER BY ALL").fetchall()
        when = staged_at(con, "incidents")
    assert first.outcome == "restaged: no fingerprint of an earlier staging"
    assert (first.rows, first.quality_issues) == (2, 1)  # inc0002's priority 'bogus'
    assert again.unchanged_since == when
    assert again.outcome == f"skipped: unchanged since {when.isoformat(timespec='seconds')}"
    assert (again.rows, again.quality_issues) == (2, 1)
    # Nothing rewritten: the same rows, and the data-quality rows keep their detection time.
    assert after == before
    assert noted_after == noted


def test_one_changed_record_is_restaged_with_its_new_value(warehouse):
    with warehouse.connect() as con:
        land(con, incident("inc0001", "2024-03-01 11:00:00", "1"))
        land(con, incident("inc0002", "2024-03-02 11:00:00", "3"))
        for table in ("incidents", "sla_records", "changes"):
            stage(con, "servicenow", table)
        land(con, incident("inc0002", "2024-03-03 09:00:00", "2", state="6"))
        results = {t: stage(con, "servicenow", t) for t in ("incidents", "sla_records", "changes")}
        rows = core_incidents(con)
    assert results["incidents"].outcome == "restaged: changed: raw.servicenow_incident"
    # SLA clocks read the incidents too (their task numbers), and changes their group and
    # service names (one name per sys_id, the newest any record shows).
    assert results["sla_records"].outcome == "restaged: changed: raw.servicenow_incident"
    assert results["changes"].outcome == "restaged: changed: raw.servicenow_incident"
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("servicenow:inc0001", 1, "in_progress"),
        ("servicenow:inc0002", 2, "resolved"),  # the new version: priority 3 -> 2, state 6
    ]


def test_a_staging_sql_file_that_differs_from_the_one_staged_with_restages(warehouse, tmp_path):
    inputs = query_inputs("servicenow", "incidents")
    query = inputs.files["staging/servicenow/incidents.sql"]
    edited = tmp_path / "incidents.sql"
    edited.write_text(
        query.read_text().replace("'servicenow' AS source", "'servicenow' AS  source")
    )
    with_edit = dataclasses.replace(
        inputs, files={**inputs.files, "staging/servicenow/incidents.sql": edited}
    )
    with warehouse.connect() as con:
        land(con, incident("inc0001", "2024-03-01 11:00:00", "1"))
        # Staged once first: it creates the (empty) raw tables the names are read from.
        stage(con, "servicenow", "incidents")
        ours = fingerprint(con, inputs)
        theirs = fingerprint(con, with_edit)
        # The warehouse as a release with the edited incidents.sql left it.
        older = Fingerprint.of(
            {k: theirs.inputs[k] if k.startswith("file ") else v for k, v in ours.inputs.items()}
        )
        con.execute(
            "UPDATE meta.staging_fingerprints SET fingerprint = ?, inputs = ? "
            "WHERE source = 'servicenow' AND table_name = 'incidents'",
            [older.digest, json.dumps(older.inputs)],
        )
        result = stage(con, "servicenow", "incidents")
        again = stage(con, "servicenow", "incidents")
    # One space more in the file is another file: only its digest differs.
    assert [k for k in ours.inputs if ours.inputs[k] != theirs.inputs[k]] == [
        "file staging/servicenow/incidents.sql"
    ]
    assert result.outcome == "restaged: changed: file staging/servicenow/incidents.sql"
    assert again.unchanged_since is not None


def test_rows_lost_from_core_or_a_forced_restage_restage(warehouse):
    with warehouse.connect() as con:
        land(con, incident("inc0001", "2024-03-01 11:00:00", "1"))
        land(con, incident("inc0002", "2024-03-02 11:00:00", "4"))
        stage(con, "servicenow", "incidents")
        con.execute("DELETE FROM core.incidents WHERE incident_id = 'servicenow:inc0002'")
        lost = stage(con, "servicenow", "incidents")
        forced = stage(con, "servicenow", "incidents", force=True)
        count = len(core_incidents(con))
    assert lost.outcome == "restaged: core no longer holds its rows"
    assert lost.rows == 2
    assert forced.outcome == "restaged: forced"
    assert count == 2


def test_a_run_killed_between_restage_and_commit_makes_the_next_run_restage(warehouse):
    with warehouse.connect() as con:
        land(con, incident("inc0001", "2024-03-01 11:00:00", "1"))
        stage(con, "servicenow", "incidents")
        staged = staged_at(con, "incidents")
        land(con, incident("inc0001", "2024-03-04 08:00:00", "5"))
    killed = subprocess.run(
        [sys.executable, "-m", "tests.faults.stager", str(warehouse.published_path)]
        + ["servicenow", "incidents"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    with warehouse.connect() as con:
        kept = core_incidents(con)
        still = staged_at(con, "incidents")
        result = stage(con, "servicenow", "incidents")
        rows = core_incidents(con)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert killed.stdout.split() == ["committing"]
    # The killed restage left nothing: the old rows, and the fingerprint that matches them.
    assert [r[1] for r in kept] == [1]
    assert still == staged
    assert result.outcome == "restaged: changed: raw.servicenow_incident"
    assert [r[1] for r in rows] == [5]


def write_measures(path: Path, revenue: str) -> None:
    path.write_text(
        "metric_id,period_start,period_end,value,unit,dimension,dimension_value\n"
        f"revenue,2025-01-01,,{revenue},EUR,,\n"
        "revenue,2025-02-01,,1200,EUR,,\n"
    )


def revenue(con) -> list[tuple]:
    return con.execute(
        "SELECT period_start::VARCHAR, value FROM core.measures ORDER BY period_start"
    ).fetchall()


def test_an_unchanged_measures_file_is_skipped_and_a_changed_one_restaged(warehouse, tmp_path):
    sheet = tmp_path / "measures.csv"
    write_measures(sheet, "1000")
    files = from_env({"MEASURES_PATHS": str(sheet)})
    with warehouse.connect() as con:
        ingest(con, files, "night-1")
        first = stage(con, "measures", "measures")
        ingest(con, files, "night-2")  # the file is unchanged: nothing lands
        unchanged = stage(con, "measures", "measures")
        kept = revenue(con)
        write_measures(sheet, "1100")
        ingest(con, files, "night-3")
        changed = stage(con, "measures", "measures")
        restaged = revenue(con)
        ingest(con, files, "night-4", full_refresh=True)
        refreshed = stage(con, "measures", "measures")
    assert first.outcome.startswith("restaged")
    assert unchanged.unchanged_since is not None
    assert kept == [("2025-01-01", 1000.0), ("2025-02-01", 1200.0)]
    # The set landed again: its rows, their landing time and the file's hash all changed.
    assert changed.outcome == ("restaged: changed: meta.loaded_files, raw.measures_measures")
    assert restaged == [("2025-01-01", 1100.0), ("2025-02-01", 1200.0)]
    # A full refresh forgets what was staged, whatever it read.
    assert refreshed.outcome == "restaged: no fingerprint of an earlier staging"


def test_the_core_asset_says_in_its_metadata_whether_it_restaged_or_skipped(tmp_path):
    sheet = tmp_path / "measures.csv"
    write_measures(sheet, "1000")
    resource = WarehouseResource(published_path=str(tmp_path / "warehouse.duckdb"))
    with resource.get().connect() as con:
        ingest(con, from_env({"MEASURES_PATHS": str(sheet)}), "night-1")
    asset = core_asset("measures", ["measures"])

    def staging(run_config: dict | None = None) -> str:
        result = dg.materialize([asset], resources={"warehouse": resource}, run_config=run_config)
        (materialization,) = result.asset_materializations_for_node("core__measures")
        return materialization.metadata["measures/staging"].value

    first, second = staging(), staging()
    with resource.get().connect() as con:
        when = con.execute("SELECT staged_at FROM meta.staging_fingerprints").fetchall()[0][0]
    forced = staging({"ops": {"core__measures": {"config": {"full_refresh": True}}}})
    assert first == "restaged: no fingerprint of an earlier staging"
    assert second == f"skipped: unchanged since {when.isoformat(timespec='seconds')}"
    assert forced == "restaged: forced"


def focus_export(path: Path, currency: str) -> Path:
    path.write_text(
        "BilledCost,EffectiveCost,ListCost,ContractedCost,BillingPeriodStart,BillingPeriodEnd,"
        "ChargePeriodStart,ChargePeriodEnd,BillingCurrency,BillingAccountId,ChargeCategory,"
        "ServiceCategory,ServiceName,ProviderName,PublisherName,InvoiceIssuerName\n"
        f"1,1,1,1,2025-02-01,2025-03-01,2025-02-01,2025-02-02,{currency},a,Usage,Compute,VM,X,X,X\n"
    )
    return path


def test_aws_costs_restage_when_another_source_changes_the_currencies_they_are_checked_against(
    warehouse, tmp_path
):
    export = focus_export(tmp_path / "export.csv", "EUR")
    with EmulatorServer(CostExplorerApi(AS_OF)) as server, warehouse.connect() as con:
        ingest(con, FocusFiles([str(export)]), None)
        stage(con, "focus", "costs")
        source = connector(server.url, AS_OF.date())
        source.start = date(2025, 2, 28)
        ingest(con, source, None)
        beside_euros = stage(con, "aws_ce", "costs")
        focus_export(export, "USD")
        ingest(con, FocusFiles([str(export)]), None)
        stage(con, "focus", "costs")
        beside_dollars = stage(con, "aws_ce", "costs")
        again = stage(con, "aws_ce", "costs")
    assert beside_euros.quality_issues == len(AWS_LINES)  # each USD line of that day flagged
    # Nothing of aws_ce changed, but the currency of the rest of core.costs did.
    assert beside_dollars.outcome == "restaged: changed: core.costs"
    assert beside_dollars.quality_issues == 0
    assert again.unchanged_since is not None
