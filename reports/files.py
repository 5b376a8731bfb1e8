"""Report files replaced whole, so a reader (or a crash) never meets half a page."""

from __future__ import annotations

import os
from pathlib import Path

# A page being written; one left by a killed run is removed by the next run that writes its folder.
PARTIAL_SUFFIX = ".partial"


def write_whole(path: Path, text: str) -> Path:
    """Write text (UTF-8, whatever the locale) beside path, then rename it over path."""
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path
