"""Settings for one sensor tick: a broken recon.yaml skips the tick with its one-line reason
instead of failing every tick with a traceback (the same for every sensor)."""
from __future__ import annotations

from dagster import SkipReason

from recon_pipeline.settings import ConfigError, Settings, load_settings


def settings_or_skip() -> Settings | SkipReason:
    try:
        return load_settings()
    except ConfigError as exc:
        return SkipReason(f"configuration error: {exc}")
