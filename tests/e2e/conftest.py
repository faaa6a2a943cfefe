from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from butido_py.cli.context import AppContext
from butido_py.cli.main import run

MINIMAL = 'compatibility = 1\navailable_phases = ["build"]\n'


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


Runner = Callable[..., Result]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "config.toml").write_text(MINIMAL)
    return root


@pytest.fixture
def butido(tmp_path: Path, repo: Path) -> Runner:
    """Run the real `butido` command (as `python -m butido_py`) in a clean environment."""
    home = tmp_path / "home"
    home.mkdir()

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
        environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("BUTIDO_", "XDG_")) and key != "DOCKER_HOST"
        }
        environ.update({"HOME": str(home), "NO_COLOR": "1"})
        environ.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "butido_py", *args],
            cwd=cwd or repo,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def inline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    """Like `butido`, but in this process: the environment is cleaned the same way."""
    for key in list(os.environ):
        # BUTIDO_UPDATE_GOLDEN is the tests' own switch (golden_files.py), not butido's.
        cleaned = key.startswith(("BUTIDO_", "XDG_")) or key == "DOCKER_HOST"
        if cleaned and key != "BUTIDO_UPDATE_GOLDEN":
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NO_COLOR", "1")

    def run_inline(*args: str, cwd: Path) -> Result:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = run(AppContext(), list(args))
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run_inline
