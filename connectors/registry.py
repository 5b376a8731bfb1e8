"""Which module implements each source name of the public contract, and how it is configured.

Every connector module exposes `from_env(env: Mapping[str, str])`, returning a Source or a
FileSource (connectors/base.py) and raising `connectors.http.SourceError` that names the
missing variable when it is not configured. It makes no request, so `source_from_env` is also
how the configuration check validates a source.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from connectors.base import FileSource, Source
from connectors.http import (
    HttpClient,
    PermanentSourceError,
    RetryPolicy,
    SourceError,
    with_retry_delay,
)

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
    "jira": "connectors.jira",
    "pagerduty": "connectors.pagerduty",
    "freshservice": "connectors.freshservice",
    "focus": "connectors.focus",
    "aws_ce": "connectors.aws_cost_explorer",
    "azure_cost": "connectors.azure_cost",
    "measures": "connectors.measures",
}

# Variables holding the URL a source is read from; plain http is refused unless loopback.
URL_VARIABLES = {
    "servicenow": ("SERVICENOW_INSTANCE_URL",),
    "jira": ("JIRA_BASE_URL",),
    "pagerduty": ("PAGERDUTY_API_URL",),
    "freshservice": ("FRESHSERVICE_URL",),
    "aws_ce": ("AWS_CE_ENDPOINT_URL",),
    "azure_cost": ("AZURE_COST_ENDPOINT_URL",),
}

# Variables holding the file globs of a file source; each pattern must match a file.
PATH_VARIABLES = {"focus": "FOCUS_PATHS", "measures": "MEASURES_PATHS"}


def credentials_named(name: str, env: Mapping[str, str]) -> tuple[str, str]:
    """(whose credentials were sent, what to check) when a source refuses them: names only."""
    if name == "servicenow":
        if env.get("SERVICENOW_TOKEN", "").strip():
            return "SERVICENOW_TOKEN", "that the token is valid and has not expired"
        return "SERVICENOW_USERNAME", "SERVICENOW_PASSWORD / SERVICENOW_TOKEN"
    if name == "jira":
        return "JIRA_EMAIL", "JIRA_API_TOKEN (an Atlassian API token of that account)"
    if name == "pagerduty":
        return "PAGERDUTY_TOKEN", "that the REST API key is valid and has read access"
    if name == "freshservice":
        return "FRESHSERVICE_API_KEY", "that the API key is valid for FRESHSERVICE_URL"
    if name == "aws_ce":
        return "the AWS credential chain", "AWS_ACCESS_KEY_ID / AWS_PROFILE / the role in use"
    if name == "azure_cost":
        return "AZURE_COST_SCOPE", (
            "AZURE_ACCESS_TOKEN (it expires after about an hour) or the DefaultAzureCredential "
            "identity, and its Cost Management Reader role on the scope"
        )
    return "", "the source's credentials"


def source_from_env(name: str, env: Mapping[str, str]) -> Source | FileSource:
    """The configured connector; a configuration problem is a PermanentSourceError."""
    if name not in CONNECTOR_MODULES:
        raise PermanentSourceError(f"{name}: no connector for this source in this release")
    module = importlib.import_module(CONNECTOR_MODULES[name])
    try:
        source = module.from_env(env)
    except PermanentSourceError:
        raise
    except SourceError as exc:
        # from_env reads settings only, so whatever it refuses stays wrong until someone fixes it.
        # A setting several sources share (FOCUS_EXCHANGE_RATES) is named by the source reading it.
        message = str(exc)
        if not message.startswith(f"{name}:"):
            message = f"{name}: {message}"
        raise PermanentSourceError(message) from None
    client = getattr(source, "client", None)
    if isinstance(client, HttpClient):
        client.credentials_of, client.credentials_check = credentials_named(name, env)
        client.policy = with_retry_delay(client.policy, env)
    elif isinstance(getattr(source, "policy", None), RetryPolicy):
        source.policy = with_retry_delay(source.policy, env)  # a client of its own (boto3)
    return source
