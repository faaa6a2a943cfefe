from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from butido_py.config import LoadedConfig, load_config

MINIMAL = 'compatibility = 1\navailable_phases = ["build"]\n'

Loader = Callable[..., LoadedConfig]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A directory that looks like a git work tree (config discovery only needs `.git`)."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def load(repo: Path, home: Path) -> Loader:
    """Write the repository config (and optionally a user config) and load it."""

    def _load(
        text: str | None = MINIMAL,
        *,
        user: str | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> LoadedConfig:
        if text is not None:
            (repo / "config.toml").write_text(text)
        if user is not None:
            user_dir = home / ".config" / "butido"
            user_dir.mkdir(parents=True, exist_ok=True)
            (user_dir / "config.toml").write_text(user)
        environ = {"HOME": str(home), **(env or {})}
        return load_config(cwd=cwd or repo, environ=environ)

    return _load
