"""Resources: the warehouse files and the configured sources (or the demo's emulators)."""

import os
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from connectors.base import FileSource, Source
from connectors.registry import source_from_env
from warehouse import Warehouse
from warehouse.store import DEFAULT_MEMORY_LIMIT


class WarehouseResource(dg.ConfigurableResource):
    """SCORECARD_WAREHOUSE is what BI reads; loads write a working file beside it."""

    published_path: str
    working_path: str | None = None
    memory_limit: str = DEFAULT_MEMORY_LIMIT

    def get(self) -> Warehouse:
        return Warehouse.at(self.published_path, self.working_path, self.memory_limit)


class SourcesResource(dg.ConfigurableResource):
    """Opens connectors from the environment; in demo mode, from emulators it starts itself."""

    demo: bool = False
    demo_workdir: str = "data/demo"
    _stack: ExitStack | None = PrivateAttr(default=None)
    _demo_env: dict[str, str] = PrivateAttr(default_factory=dict)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if not self.demo:
            return
        from connectors.emulators.demo import running_demo

        self._stack = ExitStack()
        self._demo_env = self._stack.enter_context(running_demo(Path(self.demo_workdir)))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._stack is not None:
            self._stack.close()

    @property
    def origin(self) -> str:
        return "the built-in demo" if self.demo else "the configured source"

    def open(self, name: str) -> Source | FileSource:
        return source_from_env(name, {**os.environ, **self._demo_env})
