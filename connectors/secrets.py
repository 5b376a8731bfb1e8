"""Keep credentials out of text that leaves a connector: logs, run metadata, alerts.

The connectors never put a secret in their own messages; this is the net under errors raised
by libraries they call, whose messages may quote a header or a URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Environment variables that hold credentials: the sources' passwords, tokens and keys (and the
# publish URL, whose password rides in it, and the webhook URL, whose path is its token).
SECRET_VARIABLE = re.compile(
    r"(PASSWORD|TOKEN|API_KEY|SECRET_ACCESS_KEY|ACCESS_KEY_ID|CLIENT_SECRET|PUBLISH_URL"
    r"|WEBHOOK_URL)$"
)
# Shorter values are too likely to occur by chance ("1", "true") to be worth replacing.
MIN_SECRET_CHARS = 6
MASK = "***"


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The values of the credential variables, as set and stripped, longest first."""
    values = {
        text
        for name, value in env.items()
        if SECRET_VARIABLE.search(name)
        for text in (value, value.strip())
        if len(text) >= MIN_SECRET_CHARS
    }
    return sorted(values, key=len, reverse=True)


def without_secrets(text: str, env: Mapping[str, str]) -> str:
    """`text` with every credential value of `env` masked."""
    for value in secret_values(env):
        text = text.replace(value, MASK)
    return text
