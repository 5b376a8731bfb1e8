"""Publishing to a real PostgreSQL: the read-only role reads every view, cannot write, never sees a mix."""

import threading
import time

import dagster as dg
import psycopg
import pytest

from pipelines.publish import postgres_publish_asset
from pipelines.resources import WarehouseResource
from tests.bi_fixture import build_bi_fixture
from tests.postgres_server import SUPERUSER, postgres  # noqa: F401  (the session's server)
from warehouse import Warehouse
from warehouse.bi_views import BI_VIEWS
from warehouse.postgres import PostgresPublishError, publish_to_postgres
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
    name = f"scorecard_{id(object())}"
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
    # 9 bi views + 7 scorecard tables (metric_status, objective_scores, perspective_scores,
    # initiatives, initiative_progress, actions, data_quality). Rows: bi 3 current (2 'it' +
    # 1 pilot) + 3 to date + 6 history + 3 objective history + 2 open actions + 2 incidents +
    # 1 change + 1 request + 2 costs = 23; scorecard 6 metric_status + 3 objective_scores +
    # 4 actions + 1 data_quality = 14.
    assert (result.tables, result.rows) == (16, 37)
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
        assert analyst.execute(
            "SELECT scorecard_id, metric_id, period_start::text, actual "
            "FROM bi.scorecard_current ORDER BY 1, 2"
        ).fetchall() == [
            ("it", "change_failure_rate", "2025-12-01", 25.0),
            ("it", "incident_resolution_time", "2025-12-29", 3.0),
            ("service_desk", "incident_resolution_time", "2025-12-22", 6.0),
        ]
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


def test_the_password_never_appears_in_an_error(postgres, tmp_path):  # noqa: F811
    warehouse = published_fixture(tmp_path)
    url = postgres.url(database="no_such_database", password="s3cret-Pa55")
    with pytest.raises(PostgresPublishError) as failure:
        publish_to_postgres(warehouse.published_path, url, READER)
    message = str(failure.value)
    assert "no_such_database" in message
    assert "s3cret-Pa55" not in message
    assert failure.value.__cause__ is None


def test_the_publish_postgres_asset_reports_without_the_password(
    postgres,  # noqa: F811
    database,
    tmp_path,
    monkeypatch,
):
    warehouse = published_fixture(tmp_path)
    monkeypatch.setenv(
        "SCORECARD_PUBLISH_URL", postgres.url(database=database, password="s3cret-Pa55")
    )
    monkeypatch.setenv("SCORECARD_PUBLISH_READER", READER)
    result = dg.materialize(
        [postgres_publish_asset()],
        resources={"warehouse": WarehouseResource(published_path=str(warehouse.published_path))},
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("publish__postgres")
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    assert (metadata["tables"], metadata["rows"], metadata["reader_role"]) == (16, 37, READER)
    every_event = " ".join(str(event) for event in result.all_events)
    assert "s3cret-Pa55" not in every_event
    assert f"{SUPERUSER}:***@127.0.0.1" in metadata["database"]


@pytest.mark.parametrize(
    "url", ["postgresql://bi:s3cret@db:notaport/scorecard", "not a url with s3cret in it"]
)
def test_an_unparseable_publish_url_is_refused_without_echoing_the_password(tmp_path, url):
    with pytest.raises(PostgresPublishError) as refused:
        publish_to_postgres(tmp_path / "warehouse.duckdb", url)
    assert str(refused.value) == "SCORECARD_PUBLISH_URL is not a valid database URL"
    assert "s3cret" not in str(refused.value)
