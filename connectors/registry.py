"""Which module implements each source name of the public contract.

Every connector module exposes `from_env(env: Mapping[str, str]) -> Source | FileSource`, raising
`connectors.http.SourceError` that names the missing variable when it is not configured.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from connectors.base import FileSource, Source
from connectors.http import SourceError

SOURCE_NAMES = (
    "servicenow",
    "jira",
    "pagerduty",
    "freshservice",
    "focus",
    "aws_ce",
    "azure_cost",
    "measures",
    "demo",
)

CONNECTOR_MODULES = {
    "servicenow": "connectors.servicenow",
    "focus": "connectors.focus",
    "aws_ce": "connectors.aws_cost_explorer",
    "azure_cost": "connectors.azure_cost",
    "measures": "connectors.measures",
}


def source_from_env(name: str, env: Mapping[str, str]) -> Source | FileSource:
    if name not in CONNECTOR_MODULES:
        raise SourceError(f"{name}: no connector for this source in this release")
    module = importlib.import_module(CONNECTOR_MODULES[name])
    return module.from_env(env)
