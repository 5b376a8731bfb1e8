"""The scorecard definition (scorecard.yaml) and the environment variables of the contract."""

from settings.config import ConfigError, Settings, enabled_sources, load_settings

__all__ = ["ConfigError", "Settings", "enabled_sources", "load_settings"]
