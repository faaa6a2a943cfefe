"""`butido` starts without loading what only some commands need (issue 23: start-up time).

Each check runs in a fresh interpreter and lists which heavy libraries it has loaded. Command
modules import GitPython, the docker SDK, Pygments, tqdm, Alembic, SQLAlchemy and the template
engine inside the functions that use them; `--version` and `--help` do not read the
configuration; a database query needs SQLAlchemy Core only, and on SQLite nothing of PostgreSQL
(docs/development.md, "Start-up time").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from butido_py import db
from butido_py.cli.commands import TOP_COMMANDS
from butido_py.cli.commands.db import DB_COMMANDS
from butido_py.db.engine import open_engine
from butido_py.db.models import METADATA
from butido_py.db.schema import SCHEMA_REVISION

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

#: Loaded by no database query on SQLite: SQLAlchemy Core is all the queries use (db/models.py
#: holds Core tables), the PostgreSQL dialect is imported only for PostgreSQL, Alembic only by
#: `db setup`.
NOT_FOR_A_SQLITE_QUERY = (
    "alembic",
    "butido_py.orchestrator",
    "docker",
    "git",
    "psycopg",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.orm",
)

#: Not loaded by importing the CLI, --version and --help: the configuration is read by commands.
NOT_FOR_VERSION_OR_HELP = ("butido_py.app.services", "butido_py.config")


def report(watched: tuple[str, ...]) -> str:
    """Code that prints, at exit, which of `watched` the process has loaded."""
    return f"""
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(m for m in {watched!r} if m in sys.modules))))
"""


def loaded_by(
    code: str,
    env: dict[str, str] | None = None,
    watched: tuple[str, ...] = HEAVY,
    cwd: Path | None = None,
) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", report(watched) + code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
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


@pytest.mark.parametrize("argv", [[], ["--version"], ["--help"]])
def test_version_and_help_read_no_configuration(argv: list[str]) -> None:
    code = "import butido_py.cli.main"
    if argv:
        code += f"\nbutido_py.cli.main.main({argv!r})"
    assert loaded_by(code, watched=NOT_FOR_VERSION_OR_HELP) == []


def test_a_query_on_sqlite_loads_neither_the_orm_nor_the_postgresql_dialect(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'butido.sqlite'}"
    engine = open_engine(url)
    with engine.begin() as connection:
        METADATA.create_all(connection)
        connection.execute(text("create table alembic_version (version_num varchar(32))"))
        connection.execute(
            text("insert into alembic_version values (:revision)"), {"revision": SCHEMA_REVISION}
        )
    engine.dispose()
    env = {
        "BUTIDO_DATABASE_URL": url,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    config = tmp_path / "config.toml"
    config.write_text('compatibility = 1\navailable_phases = ["build"]\n')
    argv = ["-c", str(config), "db", "submits", "-L", "1"]
    code = f"from butido_py.cli.main import main\nmain({argv!r})"
    assert loaded_by(code, env, NOT_FOR_A_SQLITE_QUERY, cwd=tmp_path) == []


def _db_modules() -> list[str]:
    """Every module of db/ but migrate (Alembic, for `db setup` only)."""
    names = sorted(path.stem for path in Path(db.__file__).parent.glob("*.py"))
    return [f"butido_py.db.{name}" for name in names if name not in ("__init__", "migrate")]


@pytest.mark.parametrize("module", _db_modules())
def test_no_database_module_imports_the_orm_or_the_postgresql_dialect(module: str) -> None:
    assert loaded_by(f"import {module}", watched=NOT_FOR_A_SQLITE_QUERY) == []


def _command_modules() -> list[str]:
    return sorted({entry.module for entry in (*TOP_COMMANDS.values(), *DB_COMMANDS.values())})


@pytest.mark.parametrize("module", _command_modules())
def test_no_command_module_imports_a_heavy_library(module: str) -> None:
    assert loaded_by(f"import {module}") == []
