"""BI readers open the published file from another process and never see half a load."""

import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from connectors.base import Page, Stream
from warehouse import Warehouse, land_page
from warehouse import publish as publish_module
from warehouse.processes import process_identity
from warehouse.publish import publish
from warehouse.store import WarehouseError

STREAM = Stream("incident", "sys_id", "sys_updated_on")


def load_batch(con, batch: int, size: int = 100) -> None:
    records = [{"sys_id": f"{batch}-{i}", "sys_updated_on": f"{batch:04d}"} for i in range(size)]
    land_page(con, "servicenow", STREAM, Page(records, f"{batch:04d}"))


def published_count(path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM raw.servicenow_incident").fetchall()[0][0]


def test_published_file_holds_the_working_data_and_schema(warehouse):
    with warehouse.connect() as con:
        load_batch(con, 0)
    result = publish(warehouse)
    assert result.path == warehouse.published_path
    assert published_count(warehouse.published_path) == 100
    with duckdb.connect(str(warehouse.published_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM core.incidents").fetchall()[0][0] == 0
        assert con.execute("SELECT max(version) FROM meta.schema_version").fetchall()[0][0] >= 1
        storage = con.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()[0][0]
    # DuckDB 1.4, bundled by many BI tools, cannot open files in 2.0's own storage format.
    assert storage.startswith("v1.4")


def test_reader_in_another_process_sees_previous_snapshot_while_a_load_runs(warehouse, tmp_path):
    with warehouse.connect() as con:
        load_batch(con, 0)
    publish(warehouse)

    loader = tmp_path / "loader.py"
    loader.write_text(
        textwrap.dedent(
            f"""
            import time
            from connectors.base import Page, Stream
            from warehouse import Warehouse, land_page
            from warehouse.publish import publish
            wh = Warehouse.at({str(warehouse.published_path)!r})
            stream = Stream("incident", "sys_id", "sys_updated_on")
            with wh.connect() as con:
                for batch in range(1, 11):
                    records = [{{"sys_id": f"{{batch}}-{{i}}", "sys_updated_on": f"{{batch:04d}}"}} for i in range(100)]
                    land_page(con, "servicenow", stream, Page(records, f"{{batch:04d}}"))
                    print("landed", batch, flush=True)
                    time.sleep(0.15)
            publish(wh)
            print("published", flush=True)
            """
        )
    )
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
            import time, duckdb
            seen = []
            deadline = time.time() + 30
            while time.time() < deadline:
                with duckdb.connect({str(warehouse.published_path)!r}, read_only=True) as con:
                    n = con.execute("SELECT count(*) FROM raw.servicenow_incident").fetchall()[0][0]
                seen.append(n)
                if n == 1100:
                    break
                time.sleep(0.02)
            print(sorted(set(seen)))
            """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    held = duckdb.connect(str(warehouse.published_path), read_only=True)
    load = subprocess.run([sys.executable, str(loader)], capture_output=True, text=True, timeout=60)
    assert load.returncode == 0, load.stderr
    assert "published" in load.stdout
    # A connection held open across the publish keeps its complete old snapshot.
    assert held.execute("SELECT count(*) FROM raw.servicenow_incident").fetchall()[0][0] == 100
    held.close()
    out, _ = reader.communicate(timeout=60)
    # Readers only ever saw the old snapshot or the new one, never a partial load.
    assert out.strip() == "[100, 1100]"
    assert published_count(warehouse.published_path) == 1100


def test_failed_load_leaves_the_last_good_snapshot(warehouse):
    with warehouse.connect() as con:
        load_batch(con, 0)
    publish(warehouse)
    with warehouse.connect() as con:
        load_batch(con, 1)  # a run that lands data, then dies before publishing
    assert published_count(warehouse.published_path) == 100
    publish(warehouse)
    assert published_count(warehouse.published_path) == 200


def test_a_log_left_by_a_read_write_opener_does_not_break_readers_after_the_next_publish(
    warehouse,
):
    """Someone opens the published file read-write, writes and dies: its .wal stays beside it.

    Replayed into the next published file, DuckDB refuses it ("WAL does not match database
    file"); the publish must leave readers a file they can open, with the new data.
    """
    with warehouse.connect() as con:
        load_batch(con, 0)
    publish(warehouse)
    path = warehouse.published_path
    opener = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import os, duckdb
                con = duckdb.connect({str(path)!r})
                con.execute("SET wal_autocheckpoint = '1TB'")
                con.execute("CREATE TABLE main.scratch AS SELECT 1 AS x")
                os._exit(0)  # no clean close: the log stays
                """
            ),
        ],
        capture_output=True,
        text=True,
    )
    assert opener.returncode == 0, opener.stderr
    wal = path.with_name(path.name + ".wal")
    assert wal.exists()
    with warehouse.connect() as con:
        load_batch(con, 1)
    publish(warehouse)
    assert published_count(path) == 200
    assert not wal.exists()


def test_a_warehouse_in_a_folder_whose_name_has_a_quote_publishes(tmp_path):
    warehouse = Warehouse.at(tmp_path / "IT's scorecard" / "warehouse.duckdb")
    with warehouse.connect() as con:
        load_batch(con, 0)
    result = publish(warehouse)
    assert result.path == tmp_path / "IT's scorecard" / "warehouse.duckdb"
    assert published_count(result.path) == 100
    assert sorted(p.name for p in result.path.parent.iterdir() if p.name.startswith(".")) == []


def test_only_a_file_system_error_suggests_disk_space_or_permissions(warehouse, monkeypatch):
    with warehouse.connect() as con:
        load_batch(con, 0)

    def broken_views(con):
        raise duckdb.BinderException('Referenced column "x" not found')

    monkeypatch.setattr(publish_module, "create_bi_views", broken_views)
    with pytest.raises(WarehouseError) as failed:
        publish(warehouse)
    assert str(failed.value) == (
        f'could not publish {warehouse.published_path}: Referenced column "x" not found. '
        "The published copy is unchanged."
    )

    def full_disk(con):
        raise duckdb.IOException("could not write file: No space left on device")

    monkeypatch.setattr(publish_module, "create_bi_views", full_disk)
    with pytest.raises(WarehouseError) as failed:
        publish(warehouse)
    assert str(failed.value) == (
        f"could not publish {warehouse.published_path}: could not write file: No space left on "
        f"device. The published copy is unchanged; free space in, or allow writing to, "
        f"{warehouse.published_path.parent} and run again."
    )


def test_a_publish_short_of_memory_names_the_limit_to_raise_and_changes_nothing(warehouse):
    """The copy rebuilds core.costs' key index in memory, which DuckDB does not spill: a million
    cost rows do not fit in 40MB."""
    publish(warehouse)
    before = warehouse.published_path.read_bytes()
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.costs (cost_id, source) "
            "SELECT 'focus:/exports/2026/11/part.csv#' || i, 'focus' FROM range(1000000) t(i)"
        )
    short = Warehouse.at(warehouse.published_path, warehouse.working_path, memory_limit="40MB")
    with pytest.raises(WarehouseError) as failed:
        publish(short)
    assert "Out of Memory" in str(failed.value)
    assert str(failed.value).endswith(
        "The published copy is unchanged; raise SCORECARD_MEMORY_LIMIT (now 40MB) and run again."
    )
    assert warehouse.published_path.read_bytes() == before


def test_the_staging_copy_of_a_killed_publish_is_removed_by_the_next_publish(warehouse):
    with warehouse.connect() as con:
        load_batch(con, 0)
    folder = warehouse.published_path.parent
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    killed.kill()
    killed.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # What a publish killed mid-copy leaves (its name carries its pid and start time; a
        # release before this one named it by pid alone), one whose pid a later process got
        # (same pid, another start time), and one in progress.
        name = warehouse.published_path.name
        left = folder / f".{name}.{killed.pid}.tmp"
        left.write_bytes(b"\0" * 4096)
        left.with_name(left.name + ".wal").write_bytes(b"\0" * 512)
        (folder / f".{name}.{alive.pid}-1.tmp").write_bytes(b"\0" * 4096)
        identity = process_identity(alive.pid).replace(":", "-")
        running = folder / f".{name}.{identity}.tmp"
        running.write_bytes(b"\0" * 4096)

        publish(warehouse)

        assert sorted(p.name for p in folder.glob(".*.tmp*")) == [running.name]
    finally:
        alive.kill()
        alive.wait()
    assert published_count(warehouse.published_path) == 100


def test_a_publish_that_finishes_later_leaves_the_newer_snapshot_published(warehouse, tmp_path):
    """Two runs publish one after the other: the copy the second made is what BI reads after both.

    The first publish is slow to flush its copy to disk (fsync of a big file); the second run
    loads more and publishes meanwhile, were the first to rename its copy outside the writer lock.
    """
    with warehouse.connect() as con:
        load_batch(con, 0)
    publish(warehouse)
    flushing = tmp_path / "flushing"
    first = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import os, pathlib, time
                from connectors.base import Page, Stream
                from warehouse import Warehouse, land_page
                from warehouse.publish import publish
                wh = Warehouse.at({str(warehouse.published_path)!r})
                stream = Stream("incident", "sys_id", "sys_updated_on")
                with wh.connect() as con:
                    records = [{{"sys_id": f"1-{{i}}", "sys_updated_on": "0001"}} for i in range(100)]
                    land_page(con, "servicenow", stream, Page(records, "0001"))
                fsync = os.fsync
                def slow_fsync(descriptor):
                    pathlib.Path({str(flushing)!r}).touch()
                    time.sleep(3)
                    fsync(descriptor)
                os.fsync = slow_fsync
                publish(wh)
                """
            ),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not flushing.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert flushing.exists(), first.stderr.read() if first.poll() is not None else "timeout"
        with warehouse.connect() as con:
            load_batch(con, 2)
        publish(warehouse)
    finally:
        _, errors = first.communicate(timeout=60)
    assert first.returncode == 0, errors
    # 100 at first, 100 more from the first run, 100 from the second: all 300 are published.
    assert published_count(warehouse.published_path) == 300
