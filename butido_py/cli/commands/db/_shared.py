"""What several `db` commands share: cell formats, the query limit, not-found errors, job JSON."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import click

from butido_py.cli.context import AppContext
from butido_py.cli.render import OutputFormat
from butido_py.errors import DatabaseError

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: Digits of a UUID in tables (unique enough to read, and a prefix every command takes).
SHORT_ID = 8


def limit_of(app: AppContext, limit: int | None) -> tuple[int | None, int]:
    """The `-L` given and the configured default (for `fetch_limited`)."""
    return limit, app.config.database.default_query_limit


T = TypeVar("T")


def fetch_limited(
    fetch: Callable[[int], list[T]],
    count: Callable[[], int],
    limit: tuple[int | None, int],
    what: str,
    *,
    newest_first: bool = False,
) -> list[T]:
    """The newest entries of a listing that never lies; `limit`: (the `-L` given, the default).
    When the default limit cut the listing (one entry more is fetched to learn it), one line on
    stderr says how many were shown of how many and how to see all; an asked-for `-L N` is not
    remarked on. An empty listing says so on stderr."""
    given, default = limit
    limit_n = default if given is None else given
    found = fetch(limit_n + 1 if limit_n else 0)
    if limit_n and len(found) > limit_n:
        found = found[:limit_n] if newest_first else found[len(found) - limit_n :]
        if given is None:
            click.echo(
                f"showing the newest {limit_n} of {count()} {what}s; all of them: --all (or -L N)",
                err=True,
            )
    elif not found:
        click.echo(f"no {what}s found", err=True)
    return found


def plural(count: int, noun: str) -> str:
    """`1 job`, `2 jobs`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def time_text(value: datetime | None, fmt: OutputFormat) -> str | None:
    """ISO 8601 with its zone for machines (JSON, CSV); `2024-01-10 10:10:00` for people."""
    if value is None:
        return None
    if fmt in (OutputFormat.JSON, OutputFormat.CSV):
        return value.isoformat()
    return value.strftime(TIME_FORMAT)


def yes_no(ok: bool | None, fmt: OutputFormat) -> object:
    if fmt is OutputFormat.JSON:
        return ok
    return "?" if ok is None else ("yes" if ok else "no")


def short_image(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def duration(started: datetime | None, finished: datetime | None) -> str | None:
    if started is None or finished is None:
        return None
    seconds = round((finished - started).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{seconds:02d}s"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def not_found(what: str, key: uuid.UUID) -> DatabaseError:
    return DatabaseError(
        f"no {what} {key} in the database",
        hint=f"list {what}s with `butido db {what}s`",
    )
