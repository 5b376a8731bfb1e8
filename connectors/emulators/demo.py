"""The built-in demo: every source's emulator started on loopback with deterministic data.

The pipeline then reads them through the real connectors, configured by the environment that each
emulator hands back, exactly as a production source would be configured.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

from connectors.emulators.catalogue import demo_as_of

log = logging.getLogger(__name__)

DEMO_MODULES = {
    "servicenow": "connectors.emulators.servicenow",
    "focus": "connectors.emulators.focus_demo",
    "aws_ce": "connectors.emulators.aws_cost_explorer",
    "azure_cost": "connectors.emulators.azure_cost",
    "measures": "connectors.emulators.measures_demo",
}


def demo_sources() -> list[str]:
    """Sources the demo serves, in load order."""
    return list(DEMO_MODULES)


@contextmanager
def running_demo(
    workdir: Path, sources: list[str] | None = None, as_of: datetime | None = None
) -> Iterator[dict[str, str]]:
    """Start the demo emulators; yield the environment that points connectors at them."""
    as_of = as_of or demo_as_of()
    workdir.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {}
    with ExitStack() as stack:
        for name in sources or demo_sources():
            module = importlib.import_module(DEMO_MODULES[name])
            source_env, stop = module.start_demo(as_of, workdir)
            stack.callback(stop)
            env.update(source_env)
            log.info("demo: %s emulator ready (data as of %s)", name, as_of.date())
        yield env
