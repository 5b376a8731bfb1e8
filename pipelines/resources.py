"""Resources: the warehouse files and the configured sources (or the demo's emulators)."""

import os
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from connectors.base import FileSource, Source
from connectors.registry import source_from_env
from pipelines.recovery import fail_runs_whose_process_died, record_run_process
from warehouse import Warehouse
from warehouse.store import DEFAULT_MEMORY_LIMIT


class WarehouseResource(dg.ConfigurableResource):
    """SCORECARD_WAREHOUSE is what BI reads; loads write a working file beside it."""

    published_path: str
    working_path: str | None = None
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    _run_id: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Before any step claims the warehouse: fail the runs that died, record this one."""
        self._run_id = context.run.run_id if context.run else None
        claim_run(context)

    def get(self) -> Warehouse:
        holder = f"run {self._run_id}" if self._run_id else None
        return Warehouse.at(self.published_path, self.working_path, self.memory_limit, holder)


def claim_run(context: dg.InitResourceContext) -> None:
    """Fail the runs that died, then record this run's process (whichever resource starts first)."""
    run, instance = context.run, context.instance
    if instance is None or run is None:
        return
    for run_id in fail_runs_whose_process_died(instance, f"run {run.run_id}"):
        context.log.warning(f"run {run_id} had died without finishing: marked failed")
    record_run_process(instance, run.run_id)


class SourcesResource(dg.ConfigurableResource):
    """Opens connectors from the environment; in demo mode, from emulators it starts itself."""

    demo: bool = False
    # definitions.py puts it beside the warehouse, so a warehouse in a temporary folder keeps the
    # demo's files there too.
    demo_workdir: str = "data/demo"
    _stack: ExitStack | None = PrivateAttr(default=None)
    _demo_env: dict[str, str] = PrivateAttr(default_factory=dict)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # The demo's emulators take seconds to start: a run killed meanwhile must be found dead.
        claim_run(context)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._stack is not None:
            self._stack.close()

    def _demo_environment(self) -> dict[str, str]:
        """The demo's emulators, started by the first read: the run's first step checks the
        settings they depend on (SCORECARD_AS_OF) before any of them is used."""
        if self.demo and self._stack is None:
            from connectors.emulators.demo import running_demo

            # Kept only once started: a start that failed (a port taken) fails each read again,
            # never reads the plain environment (a real source's settings) in a demo run.
            stack = ExitStack()
            environment = stack.enter_context(running_demo(Path(self.demo_workdir)))
            self._stack, self._demo_env = stack, environment
        return self._demo_env

    @property
    def origin(self) -> str:
        return "the built-in demo" if self.demo else "the configured source"

    def open(self, name: str, as_of: datetime | None = None) -> Source | FileSource:
        """The connector of `name`; `as_of`, the run's instant, stands for SCORECARD_AS_OF (a
        scheduled run's tick reaches the connectors this way)."""
        run = {"SCORECARD_AS_OF": as_of.isoformat()} if as_of else {}
        return source_from_env(name, {**os.environ, **self._demo_environment(), **run})
