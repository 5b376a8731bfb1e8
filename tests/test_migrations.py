"""Schema versions: an older file is migrated in place; a newer one is refused clearly."""

from pathlib import Path

import duckdb
import pytest

from connectors.cost_allocation import Currency
from connectors.focus import FocusFiles
from warehouse.migrations import (
    Migration,
    SchemaVersionError,
    current_version,
    load_migrations,
    migrate,
)


def test_new_file_gets_every_schema_and_the_latest_version(warehouse):
    latest = max(m.version for m in load_migrations())
    with warehouse.connect() as con:
        schemas = {
            r[0]
            for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
        }
        assert {"raw", "core", "kpi", "scorecard", "meta"} <= schemas
        assert current_version(con) == latest
        columns = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'core' AND table_name = 'incidents' ORDER BY ordinal_position"
            ).fetchall()
        ]
    for contract_column in [
        "incident_id",
        "source",
        "number",
        "opened_at",
        "resolved_at",
        "closed_at",
        "priority",
        "state",
        "service",
        "assignment_group",
        "category",
        "channel",
        "reopen_count",
        "reassignment_count",
        "made_sla",
        "caused_by_change_id",
        "updated_at",
    ]:
        assert contract_column in columns


def test_older_file_is_migrated_in_place_keeping_its_data(tmp_path: Path):
    v1 = Migration(1, "initial", "CREATE SCHEMA core; CREATE TABLE core.things (id INTEGER);")
    v2 = Migration(2, "label", "ALTER TABLE core.things ADD COLUMN label VARCHAR DEFAULT 'x';")
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        assert migrate(con, "old.duckdb", [v1]) == 1
        con.execute("INSERT INTO core.things VALUES (7)")
    with duckdb.connect(str(path)) as con:
        assert migrate(con, "old.duckdb", [v1, v2]) == 2
        assert con.execute("SELECT id, label FROM core.things").fetchall() == [(7, "x")]
        assert [
            r[0]
            for r in con.execute("SELECT version FROM meta.schema_version ORDER BY 1").fetchall()
        ] == [1, 2]


def test_file_from_a_newer_release_is_refused(tmp_path: Path):
    path = tmp_path / "future.duckdb"
    with duckdb.connect(str(path)) as con:
        migrate(
            con, "future.duckdb", [Migration(1, "a", "SELECT 1"), Migration(9, "b", "SELECT 1")]
        )
        with pytest.raises(
            SchemaVersionError, match=r"future.duckdb has schema version 9.*up to 1"
        ):
            migrate(con, "future.duckdb", [Migration(1, "a", "SELECT 1")])


def test_failed_migration_rolls_back_and_names_itself(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        broken = Migration(1, "broken", "CREATE SCHEMA core; CREATE TABLE core.t (x NOPE);")
        with pytest.raises(RuntimeError, match="001_broken"):
            migrate(con, "w.duckdb", [broken])
        assert current_version(con) == 0


def test_the_currency_settings_leave_the_focus_settings_for_every_cost_source(tmp_path: Path):
    """Version 17: the currency FOCUS stored beside its tag keys moves to raw.cost_settings, which
    the AWS and Azure loads write too; the next FOCUS load stores both again."""
    migrations = load_migrations()
    with duckdb.connect(str(tmp_path / "v16.duckdb")) as con:
        migrate(con, "v16.duckdb", [m for m in migrations if m.version <= 16])
        con.execute(
            "CREATE TABLE raw.focus_settings (cost_centre_keys VARCHAR[] NOT NULL, "
            "service_keys VARCHAR[] NOT NULL, application_keys VARCHAR[] NOT NULL, "
            "reporting_currency VARCHAR, rate_currencies VARCHAR[] NOT NULL, "
            "rate_values DOUBLE[] NOT NULL)"
        )
        con.execute(
            "INSERT INTO raw.focus_settings VALUES (['cc'], ['svc'], ['app'], 'USD', "
            "['EUR'], [1.1])"
        )
        migrate(con, "v16.duckdb", migrations)
        migrated = con.execute("SELECT * FROM raw.focus_settings").fetchall()
        carried_over = con.execute("SELECT * FROM raw.cost_settings").fetchall()
        FocusFiles([], currency=Currency("USD", {"EUR": 1.2, "GBP": 1.3})).prepare(con)
        stored = con.execute("SELECT * FROM raw.cost_settings").fetchall()
    assert migrated == [(["cc"], ["svc"], ["app"])]
    # Until a cost source loads again, staging and the KPI step convert with the old settings.
    assert carried_over == [("USD", ["EUR"], [1.1])]
    assert stored == [("USD", ["EUR", "GBP"], [1.2, 1.3])]
