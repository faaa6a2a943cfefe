"""State shared by all commands of one invocation: global flags and the lazily loaded config."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from butido_py import tracing
from butido_py.config import Config, LoadedConfig, load_config
from butido_py.config.database import DatabaseOverrides, database_url


@dataclass(slots=True)
class AppContext:
    debug: bool = False
    hide_bars: bool = False
    config_file: Path | None = None
    db_overrides: DatabaseOverrides = field(default_factory=DatabaseOverrides)
    _loaded: LoadedConfig | None = None

    def loaded(self) -> LoadedConfig:
        if self._loaded is None:
            with tracing.span("load_config"):
                self._loaded = load_config(
                    cwd=Path.cwd(), environ=os.environ, config_file=self.config_file
                )
        return self._loaded

    @property
    def config(self) -> Config:
        return self.loaded().config

    def database_url(self) -> str:
        loaded = self.loaded()
        return database_url(loaded.config.database, self.db_overrides, loaded.data_home)

    @property
    def show_progress(self) -> bool:
        """Progress bars only on a terminal and never with --hide-bars (as butido)."""
        return not self.hide_bars and sys.stdout.isatty()
