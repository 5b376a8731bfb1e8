"""deploy/dagster.yaml: a Dagster instance on a real PostgreSQL records a run and reads it back."""

import shutil

import dagster as dg
import psycopg
import yaml
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from tests.conftest import REPO
from tests.postgres_server import SUPERUSER, postgres  # noqa: F401


@dg.asset
def answer() -> int:
    return 42


def test_the_production_instance_keeps_runs_events_and_schedules_in_postgres(
    postgres,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    with psycopg.connect(postgres.dsn(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE dagster_production")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv(
        "DAGSTER_PG_URL",
        f"postgresql+psycopg2://{SUPERUSER}:unused-with-trust@127.0.0.1:{postgres.port}"
        "/dagster_production",
    )

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        run_id = dg.materialize([answer], instance=instance).run_id

    # A second instance (another process, the webserver) reads the run from the database.
    with dg.DagsterInstance.from_config(str(home)) as reader:
        run = reader.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        materialization = reader.get_latest_materialization_event(dg.AssetKey("answer"))
        assert materialization.run_id == run_id
    with psycopg.connect(postgres.dsn(database="dagster_production")) as con:
        assert con.execute("SELECT count(*) FROM runs WHERE run_id = %s", [run_id]).fetchone() == (
            1,
        )


def test_the_helm_values_name_the_chart_keys_this_deployment_needs():
    values = yaml.safe_load((REPO / "deploy" / "helm" / "values.yaml").read_text())
    deployment = values["dagster-user-deployments"]["deployments"][0]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "pipelines.definitions"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    env = {item["name"]: item["value"] for item in deployment["env"]}
    mounts = values["runLauncher"]["config"]["k8sRunLauncher"]["volumeMounts"]
    # The warehouse and the reports live on the volume every run pod mounts.
    assert env["SCORECARD_WAREHOUSE"].startswith(mounts[0]["mountPath"] + "/")
    assert env["SCORECARD_REPORTS"].startswith(mounts[0]["mountPath"] + "/")
    # The sensors run in the code location's pod: its success summary reads the published file.
    (code_mount,) = deployment["volumeMounts"]
    assert env["SCORECARD_WAREHOUSE"].startswith(code_mount["mountPath"] + "/")
    # The run pods get the code location's mounts added to the run launcher's: one mount per
    # path, or Kubernetes refuses the run's pod.
    assert deployment["volumeMounts"] == mounts
    assert deployment["volumes"] == values["runLauncher"]["config"]["k8sRunLauncher"]["volumes"]
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in deployment["volumes"]}
    assert claims[code_mount["name"]] == "scorecard-data"
