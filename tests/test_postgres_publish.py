"""Publishing to a real PostgreSQL: the read-only role reads every view, cannot write, never sees a mix."""

import logging
import os
import re
import signal
import socket
import tempfile
import threading
import time
import uuid

import dagster as dg
import duckdb
import psycopg
import pytest
from psycopg import sql

from pipelines.publish import postgres_publish_asset
from pipelines.resources import WarehouseResource
from tests.bi_fixture import build_bi_fixture, build_spellings_fixture
from tests.postgres_server import SUPERUSER, postgres  # noqa: F401  (the session's server)
from warehouse import Warehouse
from warehouse.bi_views import BI_VIEWS
from warehouse.postgres import (
    PUBLISH_LOCK_KEY,
    PostgresPublishError,
    publish_to_postgres,
    safe_url,
)
from warehouse.publish import publish

READER = "bi_readers"
ANALYST = "analyst"


def published_fixture(tmp_path, extra_incidents: int = 0) -> Warehouse:
    warehouse = Warehouse.at(tmp_path / f"wh{extra_incidents}" / "warehouse.duckdb")
    build_bi_fixture(warehouse)
    with warehouse.connect() as con:
        con.execute(
            "INSERT INTO core.incidents (incident_id, source, number) "
            "SELECT 'demo:' || i, 'demo', 'X' || i FROM range(?) AS t(i)",
            [extra_incidents],
        )
    publish(warehouse)
    return warehouse


@pytest.fixture
def database(postgres):  # noqa: F811
    """A fresh database per test, and a login role that is a member of the reader role."""
    # A uuid, not id(object()): CPython hands a freed object's address to the next one, so two
    # tests could get the same name.
    name = f"scorecard_{uuid.uuid4().hex}"
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ANALYST]).fetchone():
            admin.execute(f"CREATE ROLE {ANALYST} LOGIN")
    return name


def test_reader_role_reads_every_view_and_the_scorecard_tables_and_cannot_write(
    postgres,  # noqa: F811
    database,
    tmp_path,
):
    warehouse = published_fixture(tmp_path)
    result = publish_to_postgres(warehouse.published_path, postgres.url(database=database), READER)
    # 10 bi views + 8 scorecard tables (metric_goals, metric_status, objective_scores,
    # perspective_scores, initiatives, initiative_progress, actions, data_quality). Rows: bi 3
    # current (2 'it' + 1 pilot) + 3 to date + 6 history + 3 objective history + 2 restatements
    # + 2 open actions + 2 incidents + 1 change + 1 request + 2 costs = 25; scorecard 4
    # metric_goals + 6 metric_status + 3 objective_scores + 4 actions + 1 data_quality = 18.
    assert (result.tables, result.rows) == (18, 43)
    assert "@127.0.0.1" in result.url
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        # The publisher created the reader role; an administrator grants it to BI logins.
        assert admin.execute(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [READER]
        ).fetchone() == (False,)
        admin.execute(f"GRANT {READER} TO {ANALYST}")
    with psycopg.connect(postgres.dsn(ANALYST, database), autocommit=True) as analyst:
        for view in BI_VIEWS:
            analyst.execute(f"SELECT * FROM bi.{view}").fetchall()
        # Same values as in DuckDB: 12 h for INC0001, 15.0 of effective cost, each scorecard's
        # current period.
        assert analyst.execute(
            "SELECT number, resolution_hours FROM bi.incidents ORDER BY number"
        ).fetchall() == [("INC0001", 12.0), ("OPS-7", None)]
        assert analyst.execute("SELECT sum(effective_cost) FROM bi.costs").fetchone() == (15.0,)
        # The macro the DuckDB file's views share, as a function here.
        assert analyst.execute(
            "SELECT bi.period_last_day('week', DATE '2026-02-23')::text, "
            "bi.period_last_day('month', DATE '2026-02-01')::text, "
            "bi.period_last_day('quarter', DATE '2026-10-01')::text"
        ).fetchone() == ("2026-03-01", "2026-02-28", "2026-12-31")
        assert analyst.execute(
            "SELECT scorecard_id, metric_id, period_start::text, actual "
            "FROM bi.scorecard_current ORDER BY 1, 2"
        ).fetchall() == [
            ("it", "change_failure_rate", "2025-12-01", 25.0),
            ("it", "incident_resolution_time", "2025-12-29", 3.0),
            ("service_desk", "incident_resolution_time", "2025-12-22", 6.0),
        ]
        assert analyst.execute(
            "SELECT metric_id, previous_value, restated_value, value_change "
            "FROM bi.metric_restatements WHERE restated_value IS NOT NULL"
        ).fetchall() == [("change_failure_rate", 8.0, 12.5, 4.5)]
        assert analyst.execute("SELECT count(*) FROM scorecard.metric_status").fetchone() == (6,)
        assert analyst.execute(
            "SELECT scorecard_id FROM scorecard.data_quality WHERE source = 'scorecard'"
        ).fetchall() == [("it",)]
        for statement in (
            "INSERT INTO bi.actions_open (action_id) VALUES ('x')",
            "DELETE FROM scorecard.metric_status",
            "CREATE TABLE bi.mine (x int)",
            "DROP TABLE bi.costs",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                analyst.execute(statement)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        schemas = admin.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bi%' OR nspname LIKE 'scorecard%'"
        ).fetchall()
    assert sorted(schemas) == [("bi",), ("scorecard",)]  # nothing left of the loading schemas


def test_services_and_groups_read_in_postgresql_as_the_kpis_count_them(
    postgres,  # noqa: F811
    database,
    tmp_path,
):
    """PostgreSQL has no kpi schema to look spellings up in: the row tables carry them. "email",
    "Email" and "EMAIL" are one service, as OPS-1 (the earliest record) spells it."""
    warehouse = Warehouse.at(tmp_path / "warehouse.duckdb")
    build_spellings_fixture(warehouse)
    publish(warehouse)
    publish_to_postgres(warehouse.published_path, postgres.url(database=database), READER)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        assert admin.execute(
            "SELECT service, assignment_group, count(*), string_agg(service_as_recorded, ',' "
            'ORDER BY service_as_recorded COLLATE "C") FROM bi.incidents GROUP BY 1, 2'
        ).fetchall() == [("email", "service desk", 2, "Email,email")]
        # 10 tagged "Email" + 20 tagged "EMAIL".
        assert admin.execute(
            "SELECT service, sum(effective_cost) FROM bi.costs GROUP BY service"
        ).fetchall() == [("email", 30.0)]


def test_a_reader_querying_during_publishes_always_sees_one_publish_whole(
    postgres,  # noqa: F811
    database,
    tmp_path,
):
    url = postgres.url(database=database)
    # Publish A has 2 incidents and 15.0 of cost, publish B 302 incidents and double the cost:
    # a reader that mixed them would pair 2 incidents with 30.0 or 302 with 15.0.
    first = published_fixture(tmp_path, 0)
    second = published_fixture(tmp_path, 300)
    with second.connect() as con:
        con.execute("UPDATE core.costs SET EffectiveCost = EffectiveCost * 2")
    publish(second)
    publish_to_postgres(first.published_path, url, READER)
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        admin.execute(f"GRANT {READER} TO {ANALYST}")

    seen: list[tuple] = []
    errors: list[Exception] = []
    done = threading.Event()

    def read_in_a_loop() -> None:
        with psycopg.connect(postgres.dsn(ANALYST, database), autocommit=True) as analyst:
            while not done.is_set():
                try:
                    seen.append(
                        analyst.execute(
                            "SELECT (SELECT sum(effective_cost) FROM bi.costs), "
                            "(SELECT count(*) FROM bi.incidents)"
                        ).fetchone()
                    )
                except Exception as exc:  # any error at all is a failure of the swap
                    errors.append(exc)
                    return

    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    try:
        for source in (second, first, second, first, second):
            publish_to_postgres(source.published_path, url, READER)
        # However slow the machine, the reader gets a look at the last publish.
        reads_so_far = len(seen)
        deadline = time.monotonic() + 30
        while len(seen) <= reads_so_far and not errors and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        done.set()
        reader.join(timeout=60)
    assert errors == []
    # A: 10.5 + 4.5 = 15 with 2 incidents; B: doubled = 30 with 302 incidents.
    assert set(seen) <= {(15.0, 2), (30.0, 302)}
    assert seen[-1] == (30.0, 302)


SECRET = "s3cret-Pa55"
# Where a URL may carry the password: its user info, or libpq's query parameter.
PASSWORD_PLACES = {
    "user info": (lambda server, database: server.url(database=database, password=SECRET)),
    "query": (lambda server, database: server.url(database=database) + f"?password={SECRET}"),
}


@pytest.mark.parametrize("place", PASSWORD_PLACES)
def test_the_password_never_appears_in_an_error(postgres, tmp_path, place):  # noqa: F811
    warehouse = published_fixture(tmp_path)
    url = PASSWORD_PLACES[place](postgres, "no_such_database")
    with pytest.raises(PostgresPublishError) as failure:
        publish_to_postgres(warehouse.published_path, url, READER)
    message = str(failure.value)
    assert "no_such_database" in message
    assert SECRET not in message
    assert failure.value.__cause__ is None


@pytest.mark.parametrize(
    ("place", "shown"),
    [("user info", f"{SUPERUSER}:***@127.0.0.1"), ("query", "?password=***")],
)
def test_the_publish_postgres_asset_reports_without_the_password(
    postgres,  # noqa: F811
    database,
    tmp_path,
    monkeypatch,
    place,
    shown,
):
    warehouse = published_fixture(tmp_path)
    monkeypatch.setenv("SCORECARD_PUBLISH_URL", PASSWORD_PLACES[place](postgres, database))
    monkeypatch.setenv("SCORECARD_PUBLISH_READER", READER)
    result = dg.materialize(
        [postgres_publish_asset()],
        resources={"warehouse": WarehouseResource(published_path=str(warehouse.published_path))},
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("publish__postgres")
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    assert (metadata["tables"], metadata["rows"], metadata["reader_role"]) == (18, 43, READER)
    every_event = " ".join(str(event) for event in result.all_events)
    assert SECRET not in every_event
    assert shown in metadata["database"]


@pytest.mark.parametrize(
    "url", ["postgresql://bi:s3cret@db:notaport/scorecard", "not a url with s3cret in it"]
)
def test_an_unparseable_publish_url_is_refused_without_echoing_the_password(tmp_path, url):
    with pytest.raises(PostgresPublishError) as refused:
        publish_to_postgres(tmp_path / "warehouse.duckdb", url)
    assert str(refused.value) == "SCORECARD_PUBLISH_URL is not a valid database URL"
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bi:s3c@ret@db/scorecard",
        "postgresql://bi:s3c@ret/piece@db:5432/scorecard",
        "postgresql://bi:s3c@ret?more@db/scorecard",
        "postgresql://bi:s3c@[ret]@db/scorecard",
        "postgresql://bi:s3c?password=x@ret@db/scorecard",
    ],
)
def test_a_url_with_an_at_sign_left_unencoded_is_refused_without_any_piece_of_the_password(
    tmp_path, url
):
    # The first @ ends the user info, so the rest of a password holding an @ reads as the host
    # (or database, or query): shown in the error and looked up in DNS, it would leak.
    with pytest.raises(PostgresPublishError) as refused:
        publish_to_postgres(tmp_path / "warehouse.duckdb", url)
    assert str(refused.value) == (
        "SCORECARD_PUBLISH_URL is not a valid database URL: an @ in the password must be "
        "written %40"
    )


def test_an_at_sign_in_a_password_given_in_the_query_string_is_taken_as_it_is(tmp_path):
    # Not ambiguous: the query's value ends at the next &, so the publish goes on (and fails
    # only at the missing warehouse file here), its password hidden.
    with pytest.raises(PostgresPublishError) as failure:
        publish_to_postgres(
            tmp_path / "warehouse.duckdb", "postgresql://bi@db/scorecard?password=s3c@ret"
        )
    assert str(failure.value).startswith(
        "publishing to PostgreSQL at postgresql://bi@db/scorecard?password=*** failed: "
    )
    assert "ret" not in str(failure.value).replace("scorecard", "")


def test_a_database_that_accepts_the_connection_but_never_answers_fails_the_publish(
    tmp_path, monkeypatch
):
    """A listener that takes the connection and says nothing (a tunnel whose far end is gone, a
    stalled proxy): the publish gives up after the connect timeout instead of hanging the run."""
    warehouse = published_fixture(tmp_path)
    monkeypatch.setattr("warehouse.postgres.CONNECT_TIMEOUT_SECONDS", 2)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        outcome: list[BaseException | None] = []

        def run() -> None:
            try:
                publish_to_postgres(
                    warehouse.published_path, f"postgresql://bi:s3cret@127.0.0.1:{port}/db"
                )
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001  (the thread reports what it raised)
                outcome.append(exc)

        publisher = threading.Thread(target=run, daemon=True)
        started = time.monotonic()
        publisher.start()
        publisher.join(30)
        assert outcome, "the publish still waited for the silent database after 30 s"
    assert isinstance(outcome[0], PostgresPublishError)
    assert time.monotonic() - started < 15
    assert "s3cret" not in str(outcome[0])


def schemas_of_the_publish(postgres, database) -> list[tuple[str]]:  # noqa: F811
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        return sorted(
            admin.execute(
                "SELECT nspname FROM pg_namespace "
                "WHERE nspname LIKE 'bi%' OR nspname LIKE 'scorecard%'"
            ).fetchall()
        )


def test_a_reader_holding_the_tables_past_the_lock_wait_is_named_and_the_loading_schemas_go(
    postgres,  # noqa: F811
    database,
    tmp_path,
    monkeypatch,
    caplog,
):
    url = postgres.url(database=database)
    first = published_fixture(tmp_path, 0)
    second = published_fixture(tmp_path, 300)
    publish_to_postgres(first.published_path, url, READER)
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        admin.execute(f"GRANT {READER} TO {ANALYST}")
    monkeypatch.setenv("SCORECARD_PUBLISH_LOCK_WAIT", "3")
    # A dashboard session that read the live tables and left its transaction open.
    with psycopg.connect(
        postgres.dsn(ANALYST, database) + " application_name=night-dashboard"
    ) as reader:
        assert reader.execute("SELECT count(*) FROM bi.incidents").fetchone() == (2,)
        pid = reader.info.backend_pid
        started = time.monotonic()
        with (
            caplog.at_level(logging.WARNING, logger="warehouse.postgres"),
            pytest.raises(PostgresPublishError) as gave_up,
        ):
            publish_to_postgres(second.published_path, url, READER)
        waited = time.monotonic() - started
        reader.rollback()
    # Many 500 ms lock attempts, for the 3 s asked, not one attempt and not the old fixed count.
    assert 3 <= waited < 15
    message = str(gave_up.value)
    assert message.startswith(
        f"publishing to PostgreSQL at {safe_url(url)} failed: the published tables stayed in use "
        "for the whole lock wait of 3 s (SCORECARD_PUBLISH_LOCK_WAIT) by session "
        f"pid {pid} (user {ANALYST}, application 'night-dashboard', state idle in transaction, "
        "query started 20"
    ), message
    assert message.endswith(
        "The live schemas are unchanged; end those sessions or allow a longer wait, and publish "
        "again."
    )
    # The wait said so in the run log as soon as it began, naming the same session.
    waiting = [r.getMessage() for r in caplog.records if r.getMessage().startswith("waiting")]
    assert waiting[0].startswith(f"waiting for session pid {pid} (user {ANALYST}, "), waiting
    assert re.search(
        r"to finish with the tables of bi, scorecard: \d+ s of 3 s so far$", waiting[0]
    )
    # The first publish is still live, whole, and nothing of the second is left behind.
    assert schemas_of_the_publish(postgres, database) == [("bi",), ("scorecard",)]
    with psycopg.connect(postgres.dsn(ANALYST, database), autocommit=True) as analyst:
        assert analyst.execute("SELECT count(*) FROM bi.incidents").fetchone() == (2,)
    # Once the reader is gone the same publish goes through.
    publish_to_postgres(second.published_path, url, READER)
    with psycopg.connect(postgres.dsn(ANALYST, database), autocommit=True) as analyst:
        assert analyst.execute("SELECT count(*) FROM bi.incidents").fetchone() == (302,)


def publish_in_a_thread(published_file, url: str, reader: str) -> tuple[threading.Thread, list]:
    """The publish runs in a thread, so a test can act while it waits and never hangs itself."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            publish_to_postgres(published_file, url, reader)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001  (the thread reports what it raised)
            outcome.append(exc)

    publisher = threading.Thread(target=run, daemon=True)
    publisher.start()
    return publisher, outcome


def backend_waiting_for_a_lock(postgres, database) -> int:  # noqa: F811
    """The pid of the publish's server process once it waits for a lock."""
    deadline = time.monotonic() + 20
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        while time.monotonic() < deadline:
            found = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                [database],
            ).fetchone()
            if found:
                return found[0]
            time.sleep(0.05)
    raise AssertionError("the publish never waited for the lock")


def another_admin_creating_the_role(postgres, database, role: str) -> psycopg.Connection:  # noqa: F811
    """Another administrator creates the publish's reader role in a transaction left open: the
    publish's own CREATE ROLE waits for it, with no lock timeout of its own."""
    other = psycopg.connect(postgres.dsn(database=database) + " application_name=other_admin")
    other.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    return other


STALLED = (
    "(SCORECARD_PUBLISH_STATEMENT_TIMEOUT=2). The publish is rolled back and the tables "
    "published before stay as they were. Look for a session holding a lock on what the publish "
    "touches, or a stalled server (pg_stat_activity), or raise "
    "SCORECARD_PUBLISH_STATEMENT_TIMEOUT if that step needs longer, and publish again."
)


def a_publish_with_its_reader_role_being_created_elsewhere(
    postgres,  # noqa: F811
    database,
    tmp_path,
    monkeypatch,
):
    """A first publish is live; the next, under a 2 s statement timeout, needs a reader role that
    another administrator is creating in a transaction left open. Returns (url, role, the next
    publish's fixture, the other administrator's session)."""
    url = postgres.url(database=database)
    role = f"late_reader_{uuid.uuid4().hex[:8]}"  # roles are the whole server's
    first = published_fixture(tmp_path, 0)
    second = published_fixture(tmp_path, 300)
    publish_to_postgres(first.published_path, url, READER)
    monkeypatch.setenv("SCORECARD_PUBLISH_STATEMENT_TIMEOUT", "2")
    return url, role, second, another_admin_creating_the_role(postgres, database, role)


def the_first_publish_stays_live_and_the_next_goes_through(
    postgres,  # noqa: F811
    database,
    url: str,
    second,
    role: str,
) -> None:
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as reader:
        assert reader.execute("SELECT count(*) FROM bi.incidents").fetchone() == (2,)
    assert publish_to_postgres(second.published_path, url, role).tables == 18
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        assert admin.execute("SELECT count(*) FROM bi.incidents").fetchone() == (302,)
    assert schemas_of_the_publish(postgres, database) == [("bi",), ("scorecard",)]


def test_a_statement_blocked_by_another_session_ends_at_the_statement_timeout(
    postgres,  # noqa: F811
    database,
    tmp_path,
    monkeypatch,
):
    url, role, second, other = a_publish_with_its_reader_role_being_created_elsewhere(
        postgres, database, tmp_path, monkeypatch
    )
    try:
        started = time.monotonic()
        publisher, outcome = publish_in_a_thread(second.published_path, url, role)
        publisher.join(30)
        assert outcome, "the publish still waited for the other session's lock after 30 s"
        assert 2 <= time.monotonic() - started < 15
    finally:
        other.close()
    assert isinstance(outcome[0], PostgresPublishError), outcome
    assert str(outcome[0]) == (
        f"publishing to PostgreSQL at {safe_url(url)} failed: creating the reader role "
        f"{role} did not finish within 2 s {STALLED}"
    )
    the_first_publish_stays_live_and_the_next_goes_through(postgres, database, url, second, role)


def test_a_server_process_that_stops_answering_is_cut_off_after_the_statement_timeout(
    postgres,  # noqa: F811
    database,
    tmp_path,
    monkeypatch,
):
    """A frozen backend (SIGSTOP here; a hung host, a stalled proxy) keeps the connection up and
    cannot act on its own statement_timeout: the client gives up on it."""
    url, role, second, other = a_publish_with_its_reader_role_being_created_elsewhere(
        postgres, database, tmp_path, monkeypatch
    )
    frozen = None
    try:
        publisher, outcome = publish_in_a_thread(second.published_path, url, role)
        frozen = backend_waiting_for_a_lock(postgres, database)
        os.kill(frozen, signal.SIGSTOP)
        started = time.monotonic()
        other.close()
        publisher.join(30)
        assert outcome, "the publish still waited for the frozen server after 30 s"
        assert time.monotonic() - started < 15
    finally:
        other.close()
        if frozen is not None:
            os.kill(frozen, signal.SIGCONT)
    assert isinstance(outcome[0], PostgresPublishError), outcome
    assert str(outcome[0]) == (
        f"publishing to PostgreSQL at {safe_url(url)} failed: the server did not answer for 4 s "
        f"while creating the reader role {role}, so the connection was closed {STALLED}"
    )
    the_first_publish_stays_live_and_the_next_goes_through(postgres, database, url, second, role)


def test_a_leftover_schema_another_session_reads_is_kept_for_a_later_publish(
    postgres,  # noqa: F811
    database,
    tmp_path,
    caplog,
    monkeypatch,
):
    """A schema an earlier publish could not drop, read by a backup while this publish runs, is
    only tidying: the publish goes ahead and names what it waits for; a later one drops it."""
    url = postgres.url(database=database)
    first = published_fixture(tmp_path, 0)
    second = published_fixture(tmp_path, 300)
    # Should the publish wait for the backup again, it fails in 20 s instead of half an hour.
    monkeypatch.setenv("SCORECARD_PUBLISH_STATEMENT_TIMEOUT", "20")
    publish_to_postgres(first.published_path, url, READER)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        admin.execute("CREATE SCHEMA bi__retired_1_2")
        admin.execute("CREATE TABLE bi__retired_1_2.incidents AS SELECT 1 AS x")
    backup = psycopg.connect(postgres.dsn(database=database) + " application_name=backup")
    try:
        backup.execute("SELECT count(*) FROM bi__retired_1_2.incidents").fetchone()
        with caplog.at_level(logging.WARNING):
            assert publish_to_postgres(second.published_path, url, READER).tables == 18
    finally:
        backup.close()
    assert re.search(
        r"schema bi__retired_1_2, left behind by an earlier publish, is kept for a later publish: "
        r"waiting for session pid \d+ \(user \w+, application 'backup', ",
        caplog.text,
    ), caplog.text
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        assert admin.execute("SELECT count(*) FROM bi.incidents").fetchone() == (302,)
    assert ("bi__retired_1_2",) in schemas_of_the_publish(postgres, database)
    publish_to_postgres(first.published_path, url, READER)
    assert schemas_of_the_publish(postgres, database) == [("bi",), ("scorecard",)]


@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan", "inf"])
def test_a_statement_timeout_that_is_no_positive_number_of_seconds_is_refused(
    tmp_path, monkeypatch, value
):
    monkeypatch.setenv("SCORECARD_PUBLISH_STATEMENT_TIMEOUT", value)
    with pytest.raises(PostgresPublishError) as refused:
        publish_to_postgres(tmp_path / "warehouse.duckdb", "postgresql://bi@db/scorecard")
    assert str(refused.value) == (
        f"SCORECARD_PUBLISH_STATEMENT_TIMEOUT must be a number of seconds above 0, got {value!r}"
    )


@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan", "inf"])
def test_a_lock_wait_that_is_no_positive_number_of_seconds_is_refused(tmp_path, monkeypatch, value):
    monkeypatch.setenv("SCORECARD_PUBLISH_LOCK_WAIT", value)
    with pytest.raises(PostgresPublishError) as refused:
        publish_to_postgres(tmp_path / "warehouse.duckdb", "postgresql://bi@db/scorecard")
    assert str(refused.value) == (
        f"SCORECARD_PUBLISH_LOCK_WAIT must be a number of seconds above 0, got {value!r}"
    )


def test_a_nul_character_is_left_out_in_postgresql_and_kept_in_the_duckdb_file(
    postgres,  # noqa: F811
    database,
    tmp_path,
    monkeypatch,
):
    warehouse = Warehouse.at(tmp_path / "wh" / "warehouse.duckdb")
    build_bi_fixture(warehouse)
    with warehouse.connect() as con:
        # A source API's JSON "Network\u0000" arrives as a real U+0000.
        con.execute(
            "UPDATE core.incidents SET category = ? WHERE number = 'INC0001'", ["Net\x00work"]
        )
    publish(warehouse)
    # The CSV files DuckDB writes for COPY live in a folder whose name has a quote.
    scratch = tmp_path / "IT's scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    publish_to_postgres(warehouse.published_path, postgres.url(database=database), READER)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        assert admin.execute(
            "SELECT number, category FROM bi.incidents ORDER BY number"
        ).fetchall() == [("INC0001", "Network"), ("OPS-7", None)]
    with duckdb.connect(str(warehouse.published_path), read_only=True) as published:
        assert published.execute(
            "SELECT category FROM bi.incidents WHERE number = 'INC0001'"
        ).fetchone() == ("Net\x00work",)
    assert list(scratch.iterdir()) == []


def test_a_list_is_a_postgresql_array_with_its_items_whole(
    postgres,  # noqa: F811
    database,
    tmp_path,
):
    warehouse = Warehouse.at(tmp_path / "wh" / "warehouse.duckdb")
    build_bi_fixture(warehouse)
    with warehouse.connect() as con:
        # Objective names hold commas, quotes and a backslash; an initiative can trace to no
        # metric yet (an empty list) or carry no list at all (NULL).
        con.execute(
            "INSERT INTO scorecard.initiatives (scorecard_id, initiative_id, name, objectives, "
            "metrics) VALUES ('it', 'I-1', 'Cost review', ?, []), ('it', 'I-2', 'Audit', NULL, ?)",
            [
                ["Reduce cost, grow value", 'Say "no" to shadow IT', "C:\\ drive", None],
                ["cloud_spend\x00"],
            ],
        )
    publish(warehouse)
    publish_to_postgres(warehouse.published_path, postgres.url(database=database), READER)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        assert admin.execute(
            "SELECT initiative_id, objectives, metrics FROM scorecard.initiatives ORDER BY 1"
        ).fetchall() == [
            (
                "I-1",
                ["Reduce cost, grow value", 'Say "no" to shadow IT', "C:\\ drive", None],
                [],
            ),
            ("I-2", None, ["cloud_spend"]),
        ]
        assert admin.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'scorecard.initiatives'::regclass AND attname = 'metrics'"
        ).fetchone() == ("text[]",)


def test_table_and_column_descriptions_are_the_same_in_postgresql_as_in_duckdb(
    postgres,  # noqa: F811
    database,
    tmp_path,
):
    warehouse = published_fixture(tmp_path)
    publish_to_postgres(warehouse.published_path, postgres.url(database=database), READER)
    with duckdb.connect(str(warehouse.published_path), read_only=True) as published:
        columns = published.execute(
            "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() "
            "WHERE schema_name IN ('bi', 'scorecard') AND comment IS NOT NULL ORDER BY ALL"
        ).fetchall()
        objects = published.execute(
            "SELECT schema_name, view_name, comment FROM duckdb_views() "
            "WHERE schema_name = 'bi' AND comment IS NOT NULL ORDER BY ALL"
        ).fetchall()
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        pg_columns = admin.execute(
            "SELECT c.table_schema, c.table_name, c.column_name, "
            "col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, "
            "c.ordinal_position) FROM information_schema.columns c "
            "WHERE c.table_schema IN ('bi', 'scorecard') ORDER BY 1, 2, 3"
        ).fetchall()
        pg_objects = admin.execute(
            "SELECT n.nspname, c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'bi' "
            "AND c.relkind = 'r' ORDER BY 1, 2"
        ).fetchall()
    # Every bi column is described (create_bi_views refuses otherwise); scorecard tables carry
    # what DuckDB holds for them.
    assert len(columns) == sum(1 for schema, *_ in pg_columns if schema == "bi")
    assert [row for row in pg_columns if row[3] is not None] == columns
    assert pg_objects == objects and len(objects) == len(BI_VIEWS)
    assert ("bi", "incidents", "One row per incident from any ITSM source (times in UTC).") in (
        pg_objects
    )


def test_a_schema_of_the_same_name_that_no_publish_wrote_is_left_whole_and_named(
    postgres,  # noqa: F811
    database,
    tmp_path,
):
    """The database already holds a team's own schema `bi` (none of the published tables in
    it): the publish refuses to replace it, instead of dropping it and its data with the old
    schemas, and leaves no loading schema behind."""
    warehouse = published_fixture(tmp_path)
    url = postgres.url(database=database)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        admin.execute("CREATE SCHEMA bi")
        admin.execute("CREATE TABLE bi.sales_targets (region text, target numeric)")
        admin.execute("INSERT INTO bi.sales_targets VALUES ('EMEA', 1200000)")
    with pytest.raises(PostgresPublishError) as refused:
        publish_to_postgres(warehouse.published_path, url, READER)
    assert str(refused.value).endswith(
        "schema bi holds none of the tables a publish writes there (it holds sales_targets), "
        "so it is not replaced: rename it, or publish to another database"
    )
    assert schemas_of_the_publish(postgres, database) == [("bi",)]
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        assert admin.execute("SELECT * FROM bi.sales_targets").fetchall() == [("EMEA", 1200000)]


def test_an_empty_schema_or_an_earlier_publish_is_replaced(
    postgres,  # noqa: F811
    database,
    tmp_path,
):
    """An administrator created the schema `scorecard` ahead (empty), and `bi` was written by a
    publish of a release that did not mark its schemas: both are replaced."""
    warehouse = published_fixture(tmp_path)
    url = postgres.url(database=database)
    publish_to_postgres(warehouse.published_path, url, READER)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        admin.execute("COMMENT ON SCHEMA bi IS NULL")
        admin.execute("DROP SCHEMA scorecard CASCADE")
        admin.execute("CREATE SCHEMA scorecard")
    publish_to_postgres(warehouse.published_path, url, READER)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        assert admin.execute("SELECT count(*) FROM bi.incidents").fetchone() == (2,)
        assert admin.execute("SELECT count(*) FROM scorecard.metric_status").fetchone() == (6,)
    assert schemas_of_the_publish(postgres, database) == [("bi",), ("scorecard",)]


def test_a_publish_waits_for_another_publish_to_the_same_database(
    postgres,  # noqa: F811
    database,
    tmp_path,
):
    """Another publish holds the database (and is loading its schema): this one waits for it,
    gives up after the lock wait without touching it, and goes on once it has ended."""
    warehouse = published_fixture(tmp_path)
    url = postgres.url(database=database)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [PUBLISH_LOCK_KEY])
        other.execute("CREATE SCHEMA bi__loading_1_2")
        with pytest.raises(PostgresPublishError) as waited:
            publish_to_postgres(warehouse.published_path, url, READER, lock_wait=1)
        assert str(waited.value).endswith(
            "another publish to this database was still running after 1 s "
            "(SCORECARD_PUBLISH_LOCK_WAIT); nothing was changed"
        )
        assert schemas_of_the_publish(postgres, database) == [("bi__loading_1_2",)]

        ends = threading.Timer(1.0, other.execute, ["SELECT pg_advisory_unlock_all()"])
        ends.start()
        result = publish_to_postgres(warehouse.published_path, url, READER, lock_wait=30)
        ends.join()
    assert result.tables == 18
    # What the ended publish left is a leftover now, and goes.
    assert schemas_of_the_publish(postgres, database) == [("bi",), ("scorecard",)]


def test_views_of_users_on_the_published_tables_survive_the_next_publish(
    postgres,  # noqa: F811
    database,
    tmp_path,
    caplog,
):
    """Analysts build their own views on the bi tables. A publish swaps in new tables and drops
    the old ones: the views are moved onto the new tables, keeping their owner and grants, and
    one the new tables cannot hold any more is named in the log before it goes."""
    warehouse = published_fixture(tmp_path)
    url = postgres.url(database=database)
    publish_to_postgres(warehouse.published_path, url, READER)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        admin.execute("CREATE SCHEMA analytics")
        admin.execute(
            "CREATE VIEW analytics.costs_total AS SELECT sum(effective_cost) AS total FROM bi.costs"
        )
        # A view on that view: it moves with it.
        admin.execute(
            "CREATE VIEW analytics.costs_doubled AS SELECT 2 * total AS twice FROM "
            "analytics.costs_total"
        )
        admin.execute(f"GRANT USAGE ON SCHEMA analytics TO {ANALYST}")
        admin.execute(f"GRANT SELECT ON analytics.costs_doubled TO {ANALYST}")
        # A column the next publish will not have: this view cannot be moved.
        admin.execute("ALTER TABLE scorecard.actions ADD COLUMN local_note text")
        admin.execute("CREATE VIEW analytics.notes AS SELECT local_note FROM scorecard.actions")
    more = published_fixture(tmp_path, extra_incidents=3)
    with caplog.at_level(logging.WARNING):
        publish_to_postgres(more.published_path, url, READER)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        views = admin.execute(
            "SELECT table_name FROM information_schema.views WHERE table_schema = 'analytics' "
            "ORDER BY 1"
        ).fetchall()
        assert views == [("costs_doubled",), ("costs_total",)]
        # Bound to the new tables, which now hold the only copy.
        assert admin.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE '%retired%'"
        ).fetchone() == (0,)
    with psycopg.connect(postgres.dsn(ANALYST, database), autocommit=True) as analyst:
        assert analyst.execute("SELECT twice FROM analytics.costs_doubled").fetchone() == (30.0,)
    assert (
        "view analytics.notes could not be moved onto the new published tables and is dropped "
        "with the old ones"
    ) in caplog.text


def test_a_moved_view_keeps_its_options(postgres, database, tmp_path):  # noqa: F811
    """An analyst's views over the costs, one a security barrier for a row filter, one run with
    the rights of whoever queries it (security_invoker), one an updatable view with a check
    option: moved onto the new tables, each keeps its options, or the filter could leak rows
    and the view would read with its owner's rights."""
    warehouse = published_fixture(tmp_path)
    url = postgres.url(database=database)
    publish_to_postgres(warehouse.published_path, url, READER)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        admin.execute("CREATE SCHEMA analytics")
        admin.execute(
            "CREATE VIEW analytics.aws_costs WITH (security_barrier = true) AS "
            "SELECT * FROM bi.costs WHERE provider = 'AWS'"
        )
        admin.execute(
            "CREATE VIEW analytics.own_costs WITH (security_invoker = true) AS "
            "SELECT cost_id FROM bi.costs"
        )
        admin.execute(
            "CREATE VIEW analytics.open_actions AS SELECT * FROM scorecard.actions "
            "WHERE status = 'open' WITH CASCADED CHECK OPTION"
        )
    publish_to_postgres(warehouse.published_path, url, READER)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        assert admin.execute(
            "SELECT c.relname, c.reloptions FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = 'analytics' "
            "ORDER BY 1"
        ).fetchall() == [
            ("aws_costs", ["security_barrier=true"]),
            ("open_actions", ["check_option=cascaded"]),
            ("own_costs", ["security_invoker=true"]),
        ]


def test_a_url_with_a_line_break_or_spaces_around_it_publishes(postgres, database, tmp_path):  # noqa: F811
    """A secret mounted from a file (Kubernetes, Docker) often ends with a line break: the URL
    is read without it, not as database "scorecard_...\n", which does not exist."""
    warehouse = published_fixture(tmp_path)
    result = publish_to_postgres(
        warehouse.published_path, f" {postgres.url(database=database)}\n", READER
    )
    assert result.url == postgres.url(database=database)
    with psycopg.connect(postgres.dsn(database=database), autocommit=True) as admin:
        assert admin.execute("SELECT count(*) FROM bi.incidents").fetchone() == (2,)


def test_text_arrives_intact_in_a_latin1_database_and_what_it_cannot_hold_is_replaced_and_counted(
    postgres,  # noqa: F811
    tmp_path,
    caplog,
):
    """An older database in LATIN1: "Zürich" is stored as Zürich (not the UTF-8 bytes read as
    LATIN1, "ZÃ¼rich"), and a character LATIN1 has no equivalent for (☕, 日, 本) becomes "?",
    counted in the log, instead of failing the publish."""
    name = f"latin1_{uuid.uuid4().hex}"
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        admin.execute(
            f"CREATE DATABASE {name} ENCODING 'LATIN1' TEMPLATE template0 "
            "LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    warehouse = Warehouse.at(tmp_path / "wh" / "warehouse.duckdb")
    build_bi_fixture(warehouse)
    with warehouse.connect() as con:
        con.execute("UPDATE core.incidents SET category = 'Zürich' WHERE number = 'INC0001'")
        con.execute("UPDATE core.incidents SET category = 'Café ☕ 日本?' WHERE number = 'OPS-7'")
    publish(warehouse)
    with caplog.at_level(logging.WARNING):
        publish_to_postgres(warehouse.published_path, postgres.url(database=name), READER)
    with psycopg.connect(postgres.dsn(database=name), autocommit=True) as admin:
        admin.execute("SET client_encoding = 'UTF8'")
        assert admin.execute(
            "SELECT number, category FROM bi.incidents ORDER BY number"
        ).fetchall() == [("INC0001", "Zürich"), ("OPS-7", "Café ? ???")]
    assert (
        "bi.incidents: 3 characters have no equivalent in the database's encoding LATIN1 and "
        "were replaced by ?"
    ) in caplog.text


def test_a_short_password_is_not_blanked_wherever_its_characters_occur(tmp_path):
    # Blanking "0" would turn the address into 127.***.***.1, which shows the password.
    empty = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(PostgresPublishError) as failure:
        publish_to_postgres(empty, "postgresql://bi:0@127.0.0.1:1/scorecard", READER)
    assert str(failure.value).startswith(
        "publishing to PostgreSQL at postgresql://bi:***@127.0.0.1:1/scorecard failed: "
        '(psycopg.OperationalError) connection failed: connection to server at "127.0.0.1", '
        "port 1 failed: Connection refused"
    ), str(failure.value)
