"""The built-in demo: every source's emulator started on loopback with deterministic data.

The pipeline then reads them through the real connectors, configured by the environment that each
emulator hands back, exactly as a production source would be configured.

The demo company runs ServiceNow for its service desk and PagerDuty for on-call. SCORECARD_DEMO
picks another set: `jsm` runs Jira Service Management and Freshservice in ServiceNow's place.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

from connectors.emulators.catalogue import demo_as_of

log = logging.getLogger(__name__)

DEMO_MODULES = {
    "servicenow": "connectors.emulators.servicenow",
    "pagerduty": "connectors.emulators.pagerduty",
    "jira": "connectors.emulators.jira",
    "freshservice": "connectors.emulators.freshservice",
    "focus": "connectors.emulators.focus_demo",
    "aws_ce": "connectors.emulators.aws_cost_explorer",
    "azure_cost": "connectors.emulators.azure_cost",
    "measures": "connectors.emulators.measures_demo",
}


COST_AND_MEASURES = ("focus", "aws_ce", "azure_cost", "measures")
# Service desk and on-call sources of each demo set; every set adds the cost and measure sources.
DEMO_SETS = {
    "servicenow": ("servicenow", "pagerduty"),
    "jsm": ("jira", "freshservice", "pagerduty"),
}
DEFAULT_DEMO_SET = "servicenow"


def demo_sources(env: Mapping[str, str] | None = None) -> list[str]:
    """Sources the demo serves, in load order: the set SCORECARD_DEMO names (default servicenow)."""
    env = os.environ if env is None else env
    chosen = (env.get("SCORECARD_DEMO") or DEFAULT_DEMO_SET).strip().lower()
    if chosen not in DEMO_SETS:
        raise ValueError(
            f"SCORECARD_DEMO={chosen!r} is not a demo set; choose one of {', '.join(DEMO_SETS)}"
        )
    return [*DEMO_SETS[chosen], *COST_AND_MEASURES]


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
