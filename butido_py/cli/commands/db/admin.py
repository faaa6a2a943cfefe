"""`butido db cli` and `butido db setup`: a SQL client on the database, and its schema."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

import click

from butido_py.cli.context import AppContext
from butido_py.cli.render import print_json
from butido_py.errors import DatabaseError

if TYPE_CHECKING:
    from butido_py.app.database import DatabaseSetup

_TOOLS = ("psql", "pgcli", "sqlite3")


@click.command("cli")
@click.option("--tool", type=click.Choice(_TOOLS), help="Client to start (default: first found).")
@click.pass_obj
def db_cli(app: AppContext, tool: str | None) -> None:
    """Open an interactive SQL client on the configured database.

    PostgreSQL: psql or pgcli (the password is passed through PGPASSWORD, not the command line).
    SQLite: sqlite3 on the database file.
    """
    url = urlsplit(app.database_url())
    is_sqlite = url.scheme.startswith("sqlite")
    if tool is not None and (tool == "sqlite3") != is_sqlite:
        raise DatabaseError(
            f"{tool} cannot open the configured {'SQLite' if is_sqlite else 'PostgreSQL'} database",
            hint="use --tool sqlite3 for SQLite, psql or pgcli for PostgreSQL",
        )
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
        options = parse_qs(url.query).get("options")
        if options:  # e.g. -csearch_path=…: the client must see what butido_py sees
            env["PGOPTIONS"] = options[-1]
        argv = [
            found,
            "--host", url.hostname or "localhost",
            "--port", str(url.port or 5432),
            "--username", unquote(url.username or ""),
            "--dbname", unquote(url.path.removeprefix("/")),
        ]  # fmt: skip
    os.execvpe(found, argv, env)  # noqa: S606 - replacing ourselves with the client is the point


@click.command("setup")
@click.option(
    "--adopt-butido",
    is_flag=True,
    help="Convert a database of butido (Rust) in place: its submits, jobs, logs, artifacts and "
    "releases are kept with their UUIDs. One transaction; back the database up first, butido "
    "(Rust) cannot use it afterwards.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@click.pass_obj
def db_setup(app: AppContext, adopt_butido: bool, as_json: bool) -> None:
    """Create the schema, or apply pending migrations; running it again changes nothing.

    On PostgreSQL an advisory lock makes concurrent runs wait for each other. A database that
    butido (Rust) created is refused unless --adopt-butido is given (docs/database.md).
    """
    # SQLAlchemy and Alembic: only `db setup` loads the migrations.
    from butido_py.app.database import setup_database  # noqa: PLC0415

    done = setup_database(
        app.database_url(),
        adopt_butido=adopt_butido,
        progress=lambda step: click.echo(f"adopting: {step} …", err=True),
    )
    if as_json:
        print_json(_setup_json(done))
    else:
        _echo_setup(done)


def _setup_json(done: DatabaseSetup) -> dict[str, object]:
    result, adopted = done.schema, done.schema.adopted
    return {
        "database": done.database,
        "server": f"{done.server.dialect} {done.server.version}",
        "applied": [{"revision": m.revision, "message": m.message} for m in result.applied],
        "revision": result.revision,
        "adopted": None
        if adopted is None
        else {
            "butido_migrations": adopted.migrations,
            "rows": adopted.rows,
            "jobs_by_state": adopted.jobs_by_state,
            "submits_by_state": adopted.submits_by_state,
        },
    }


def _echo_setup(done: DatabaseSetup) -> None:
    result, adopted = done.schema, done.schema.adopted
    click.echo(f"database: {done.database} ({done.server.dialect} {done.server.version})")
    if adopted is not None:
        counts = ", ".join(f"{count} {table}" for table, count in adopted.rows.items())
        click.echo(
            f"adopted the butido (Rust) database ({adopted.migrations} butido migrations): {counts}"
        )
        for what, states in (
            ("jobs", adopted.jobs_by_state),
            ("submits", adopted.submits_by_state),
        ):
            if states:
                listed = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
                click.echo(f"  {what}: {listed}")
    for migration in result.applied:
        click.echo(f"applied migration {migration.revision}: {migration.message}")
    if result.applied:
        click.echo(f"schema is now at revision {result.revision}")
    else:
        click.echo(f"schema is up to date (revision {result.revision}); nothing to do")


COMMANDS: tuple[click.Command, ...] = (db_cli, db_setup)
