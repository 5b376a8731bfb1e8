"""A BI tool keeps reading the bi views of the published file while runs publish over it."""

import subprocess
import sys
import textwrap

from tests.bi_fixture import build_bi_fixture
from warehouse.bi_views import BI_VIEWS
from warehouse.publish import publish

PUBLISHES = 6


def test_a_duckdb_reader_never_errors_while_the_file_is_published_again(warehouse, tmp_path):
    build_bi_fixture(warehouse)
    publish(warehouse)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import os, sys, time
                import duckdb
                reads, deadline = 0, time.monotonic() + 120
                while not os.path.exists({str(stop)!r}) and time.monotonic() < deadline:
                    with duckdb.connect({str(warehouse.published_path)!r}, read_only=True) as con:
                        for view in {list(BI_VIEWS)!r}:
                            con.execute(f"SELECT count(*) FROM bi.{{view}}").fetchall()
                    reads += 1
                # A last look once every publish is done.
                with duckdb.connect({str(warehouse.published_path)!r}, read_only=True) as con:
                    incidents = con.execute("SELECT count(*) FROM bi.incidents").fetchall()
                print(reads, incidents[0][0])
                """
            ),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for batch in range(PUBLISHES):
        with warehouse.connect() as con:
            con.execute(
                "INSERT INTO core.incidents (incident_id, source, number) VALUES (?, 'demo', ?)",
                [f"demo:{batch}", f"D{batch}"],
            )
        publish(warehouse)
    stop.touch()
    out, err = reader.communicate(timeout=150)
    assert reader.returncode == 0, err
    reads, incidents = map(int, out.split())
    assert reads > PUBLISHES
    # The last look sees the final publish: 2 fixture incidents + 6 added.
    assert incidents == 2 + PUBLISHES
