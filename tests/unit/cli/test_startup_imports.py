"""`butido` starts without loading what only some commands need (issue 23: start-up time).

Each check runs in a fresh interpreter and lists which heavy libraries it has loaded. Command
modules import GitPython, the docker SDK, Pygments, tqdm, Alembic, SQLAlchemy and the template
engine inside the functions that use them (docs/development.md, "Start-up time").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from butido_py.cli.commands import TOP_COMMANDS
from butido_py.cli.commands.db import DB_COMMANDS

#: Loaded by no command module at import time, nor by --version, --help or a completion.
HEAVY = (
    "alembic",
    "butido_py.app.build",
    "butido_py.orchestrator",
    "docker",
    "git",
    "pybars",
    "pygments",
    "requests",
    "sqlalchemy",
    "tqdm",
)

REPORT = f"""
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules))))
"""


def loaded_by(code: str, env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", REPORT + code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    last = done.stdout.strip().splitlines()[-1]
    loaded: list[str] = json.loads(last)
    return loaded


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert loaded_by("import butido_py.cli.main") == []


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["db", "--help"]])
def test_version_and_help_load_no_heavy_library(argv: list[str]) -> None:
    code = f"from butido_py.cli.main import main\nmain({argv!r})"
    assert loaded_by(code) == []


@pytest.mark.parametrize(
    ("words", "cword"),
    [("butido db su", "2"), ("butido ", "1"), ("butido db submits --st", "3")],
)
def test_completing_names_and_options_loads_no_heavy_library(words: str, cword: str) -> None:
    env = {"_BUTIDO_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    assert loaded_by("from butido_py.cli.main import main\nmain()", env) == []


def _command_modules() -> list[str]:
    return sorted({entry.module for entry in (*TOP_COMMANDS.values(), *DB_COMMANDS.values())})


@pytest.mark.parametrize("module", _command_modules())
def test_no_command_module_imports_a_heavy_library(module: str) -> None:
    assert loaded_by(f"import {module}") == []
