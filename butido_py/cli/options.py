"""The options several commands share, each defined once, with typed values.

Importing this module must stay cheap: it is imported when the command tree is built (also for
`--help` and shell completion). Nothing here touches the database, git or Docker.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import click
from click.shell_completion import CompletionItem

from butido_py.cli.context import AppContext
from butido_py.cli.render import OutputFormat
from butido_py.timespec import TimeSpecError, parse_duration, parse_timespec

F = TypeVar("F", bound=Callable[..., Any])
E = TypeVar("E", bound=StrEnum)


class EnumChoice(click.Choice[str], Generic[E]):
    """One of the values of a StrEnum; the command receives the member, not the string."""

    def __init__(self, enum: type[E]) -> None:
        super().__init__([member.value for member in enum])
        self.enum = enum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> E:
        if isinstance(value, self.enum):
            return value
        return self.enum(super().convert(value, param, ctx))


# --- output format ------------------------------------------------------------------------------


#: Key of the click context's meta that holds `--header`.
CSV_HEADER = "butido.csv_header"


def output_options(func: F) -> F:
    """Adds --json, --csv, --header and --no-header to a listing command (see `choose_format`)."""
    func = header_option(func)
    func = click.option("--no-header", is_flag=True, help="Omit the header line of a table.")(func)
    func = click.option(
        "--csv", "as_csv", is_flag=True, help="Print CSV (as butido: no header line; see --header)."
    )(func)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def _remember_header(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta[CSV_HEADER] = value
    return value


def header_option(func: F) -> F:
    """`--header`: CSV output starts with a header line (butido prints none; read by
    `render_rows` through the click context, so commands need no parameter for it)."""
    return click.option(
        "--header",
        is_flag=True,
        expose_value=False,
        callback=_remember_header,
        help="Start CSV output with a header line.",
    )(func)


def choose_format(*, as_json: bool, as_csv: bool) -> OutputFormat:
    """The format of --json/--csv; without either a table on a terminal, plain rows otherwise."""
    if as_json and as_csv:
        raise click.UsageError("--json and --csv are mutually exclusive")
    if as_json:
        return OutputFormat.JSON
    if as_csv:
        return OutputFormat.CSV
    return OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.PLAIN


# --- repository selection -----------------------------------------------------------------------


def repository_options(func: F) -> F:
    """Adds --commit and --allow-dirty; the command receives `commit` and `allow_dirty`."""
    func = click.option(
        "--allow-dirty",
        is_flag=True,
        help="Read package files from the work tree even when they differ from the commit "
        "(the result is marked dirty).",
    )(func)
    return click.option(
        "--commit",
        default="HEAD",
        show_default=True,
        metavar="REV",
        help="Read the package tree from this git revision (anything `git rev-parse` resolves to "
        "a commit: hash, tag, branch, HEAD~1).",
    )(func)


# --- database queries ---------------------------------------------------------------------------


class TimeSpec(click.ParamType[datetime]):
    """butido's time filter forms: `2h`, `3days`, `1w`, `2020-01-01`, `2020-01-01 00:12:45`."""

    name = "TIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_timespec(str(value), now=datetime.now(UTC))
        except TimeSpecError as exc:
            self.fail(str(exc), param, ctx)


TIME = TimeSpec()

older_than_option = click.option(
    "--older-than", type=TIME, help="Only entries older than TIME (e.g. 2h, 3days, 2020-01-01)."
)
newer_than_option = click.option(
    "--newer-than", type=TIME, help="Only entries newer than TIME (e.g. 1w, 2020-01-01 12:00:00)."
)


class Duration(click.ParamType[float]):
    """A humantime duration (`2s`, `90m`, `2h`, `1h 30min`), in seconds, longer than 0."""

    name = "DURATION"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            seconds = parse_duration(str(value)).total_seconds()
        except TimeSpecError as exc:
            self.fail(str(exc), param, ctx)
        if seconds <= 0:
            self.fail(f"{value!r} is not longer than 0 s", param, ctx)
        return seconds


timeout_option = click.option(
    "--timeout",
    type=Duration(),
    help="Stop a job whose container runs longer than DURATION (e.g. 2s, 90m, 2h): it fails "
    "with kind `timeout` (default: the package's meta job_timeout, else docker.job_timeout).",
)


def limit_option(func: F) -> F:
    """`-L N` and `--all` (the same as `-L 0`): how many of the newest entries a listing shows."""
    func = click.option(
        "--all", "limit", flag_value=0, type=click.INT, help="Show every entry (as -L 0)."
    )(func)
    return click.option(
        "-L",
        "--limit",
        "limit",
        type=click.IntRange(min=0),
        help="Show the newest N entries (default: database_default_query_limit; 0: all).",
    )(func)


class UuidRef(click.ParamType[Any]):
    """A submit or job: its UUID, or a unique prefix of at least 6 hex digits (like git). The
    database resolves it (db/prefix.py) when the command line is parsed."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = f"{kind.replace(' ', '_')}_uuid"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import uuid  # noqa: PLC0415 - cheap, but only needed here

        if isinstance(value, uuid.UUID):
            return value
        # Imported here: SQLAlchemy is slow to import, and --help and completion never resolve.
        from butido_py.db.prefix import Kind, parse_reference, resolve  # noqa: PLC0415

        reference = parse_reference(str(value))
        if reference is None:
            self.fail(
                f"{value!r} is neither a UUID nor a prefix of at least 6 hex digits", param, ctx
            )
        if ctx is None or ctx.resilient_parsing:
            return reference
        return resolve(ctx.ensure_object(AppContext).database(), Kind(self.kind), reference)

    def shell_complete(
        self,
        ctx: click.Context,
        param: click.Parameter,  # noqa: ARG002 - click's signature
        incomplete: str,
    ) -> list[CompletionItem]:
        """The newest submits (jobs), with what they built."""
        from butido_py.cli.completion import recent_uuids  # noqa: PLC0415 - completion only

        return recent_uuids(ctx, self.kind, incomplete)


SUBMIT_REF = UuidRef("submit")
JOB_REF = UuidRef("job")
GROUP_REF = UuidRef("group")
SUBMIT_OR_GROUP_REF = UuidRef("submit or group")


wide_option = click.option(
    "--wide", is_flag=True, help="Full UUIDs in the table (JSON and CSV always have them)."
)
