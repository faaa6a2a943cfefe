"""`butido db …`: the database of submits, jobs and artifacts.

The group lists its commands from a table (see cli/lazy.py): `butido db submits` imports the
submits module only, and the database layer (SQLAlchemy) only when a query runs.
"""

from __future__ import annotations

import click

from butido_py.cli.lazy import LazyCommand, LazyGroup

_PACKAGE = "butido_py.cli.commands.db"

DB_COMMANDS: dict[str, LazyCommand] = {
    "artifacts": LazyCommand(
        f"{_PACKAGE}.listings",
        "List artifacts: path, release date (or `no`), job, size and sha256; newest last.",
    ),
    "cli": LazyCommand(
        f"{_PACKAGE}.admin", "Open an interactive SQL client on the configured database."
    ),
    "envvars": LazyCommand(
        f"{_PACKAGE}.listings", "List all environment variables (NAME=value pairs) ever recorded."
    ),
    "group": LazyCommand(
        f"{_PACKAGE}.groups",
        "Show a group: one row per package, one column per image, each cell the job's state.",
    ),
    "groups": LazyCommand(
        f"{_PACKAGE}.groups",
        "List groups (one build over several images): time, UUID, package, images, state.",
    ),
    "history": LazyCommand(
        f"{_PACKAGE}.history",
        "List the recent builds of package PKG: time, version, state, endpoint, queue wait and "
        "run time; then the median run time and the success rate, and on a terminal a plot of "
        "run times.",
    ),
    "images": LazyCommand(f"{_PACKAGE}.listings", "List all images ever requested or built on."),
    "job": LazyCommand(
        f"{_PACKAGE}.jobs",
        "Show one job: package, endpoint, image, container, state, times; optionally more.",
    ),
    "jobs": LazyCommand(
        f"{_PACKAGE}.jobs",
        "List jobs, one row per artifact; newest last. Time filters apply to the submit time.",
    ),
    "log-of": LazyCommand(
        f"{_PACKAGE}.logs", "Print the log of a job, also while it is still running."
    ),
    "releases": LazyCommand(
        f"{_PACKAGE}.listings",
        "List releases: package, version, date, and where the file is; newest first.",
    ),
    "setup": LazyCommand(
        f"{_PACKAGE}.admin",
        "Create the schema, or apply pending migrations; running it again changes nothing.",
    ),
    "submit": LazyCommand(
        f"{_PACKAGE}.submits",
        "Show a submit (commit, image, env, state, times, lineage) and its jobs as a tree.",
    ),
    "submits": LazyCommand(
        f"{_PACKAGE}.submits",
        "List submits: time, UUID, the package they were for, state; newest last.",
    ),
}


@click.group("db", cls=LazyGroup, lazy=DB_COMMANDS)
def db_group() -> None:
    """Query and maintain the database (SQLite by default, PostgreSQL for teams and CI)."""


COMMANDS: tuple[click.Command, ...] = (db_group,)
