"""`butido db …`: the database of submits, jobs and artifacts."""

from __future__ import annotations

import os
import shutil
from urllib.parse import unquote, urlsplit

import click

from butido_py.cli.context import AppContext
from butido_py.errors import DatabaseError

_TOOLS = ("psql", "pgcli", "sqlite3")


@click.group("db")
def db_group() -> None:
    """Query and maintain the database (SQLite by default, PostgreSQL for teams and CI)."""


@db_group.command("cli")
@click.option("--tool", type=click.Choice(_TOOLS), help="Client to start (default: first found).")
@click.pass_obj
def db_cli(app: AppContext, tool: str | None) -> None:
    """Open an interactive SQL client on the configured database.

    PostgreSQL: psql or pgcli (the password is passed through PGPASSWORD, not the command line).
    SQLite: sqlite3 on the database file.
    """
    url = urlsplit(app.database_url())
    is_sqlite = url.scheme.startswith("sqlite")
    candidates = [tool] if tool else (["sqlite3"] if is_sqlite else ["psql", "pgcli"])
    found = next((c for c in candidates if shutil.which(c)), None)
    if found is None:
        raise DatabaseError(
            f"no database client found (looked for {', '.join(candidates)})",
            hint="install one, e.g. on Debian `apt-get install sqlite3` or "
            "`apt-get install postgresql-client`",
        )
    env = dict(os.environ)
    if is_sqlite:
        argv = [found, url.path.removeprefix("/")]
    else:
        if url.password:
            env["PGPASSWORD"] = unquote(url.password)
        argv = [
            found,
            "--host", url.hostname or "localhost",
            "--port", str(url.port or 5432),
            "--username", unquote(url.username or ""),
            "--dbname", unquote(url.path.removeprefix("/")),
        ]  # fmt: skip
    os.execvpe(found, argv, env)  # noqa: S606 - replacing ourselves with the client is the point


COMMANDS: tuple[click.Command, ...] = (db_group,)
