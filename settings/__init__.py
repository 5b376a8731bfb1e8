"""The scorecard definition (scorecard.yaml) and the environment variables of the contract."""

from settings.clock import run_as_of
from settings.config import ConfigError, Settings, enabled_sources, load_settings

__all__ = ["ConfigError", "Settings", "enabled_sources", "load_settings", "run_as_of"]
