"""`butido db log-of UUID`: a job's log, as stored, or followed while the job runs.

Every log shown here is read through db/logs.py (`read_log`, `follow_log`). Without `--raw` it
is shown in butido's display form, line by line as it arrives, with control sequences other
than colour neutralised (`logproto.terminal_safe`); `--raw` writes the stored bytes unchanged.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import click

from butido_py.cli.commands.db._shared import not_found
from butido_py.cli.context import AppContext
from butido_py.cli.options import JOB_REF
from butido_py.cli.render import print_json
from butido_py.errors import ButidoError, DatabaseError, ExitCode
from butido_py.logproto import LogParser, LogRecord, display_line

if TYPE_CHECKING:
    from butido_py.db.database import Database
    from butido_py.db.logs import LogHead, LogPiece

#: The one place a job argument is parsed (prefix UUIDs will be accepted here).
job_argument = click.argument("job_uuid", metavar="UUID", type=JOB_REF)


class JobNotSucceededError(ButidoError):
    """A followed job ended in another state than succeeded."""

    exit_code = ExitCode.FAILURE


def display_lines(pieces: Iterable[bytes], *, color: bool) -> Iterator[str]:
    """The display form of a log given in pieces split anywhere, line by line as they come."""
    parser = LogParser()
    for piece in pieces:
        yield from _shown(parser.feed(piece), color)
    yield from _shown(parser.finish(), color)


def _shown(records: list[LogRecord], color: bool) -> Iterator[str]:
    for record in records:
        yield display_line(record, color=color)


def echo_log(pieces: Iterable[bytes], *, raw: bool) -> None:
    """A log on stdout: the bytes as stored (`raw`) or the display form, as it arrives."""
    if raw:
        out = sys.stdout.buffer
        for piece in pieces:
            out.write(piece)
            out.flush()
        return
    from butido_py.cli.script_display import use_color  # noqa: PLC0415 - Pygments

    color = use_color()
    for line in display_lines(pieces, color=color):
        click.echo(line)
        sys.stdout.flush()


@click.command("log-of")
@job_argument
@click.option("--follow", "-f", is_flag=True, help="Keep printing the log until the job ends.")
@click.option(
    "--attempt",
    type=click.IntRange(min=1),
    help="The log of this attempt of a retried job (default: the latest).",
)
@click.option("--raw", is_flag=True, help="Write the log's bytes exactly as the job printed them.")
@click.option("--json", "as_json", is_flag=True, help="Print the job's state and log as JSON.")
@click.pass_obj
def db_log_of(
    app: AppContext,
    job_uuid: uuid.UUID,
    follow: bool,
    attempt: int | None,
    raw: bool,
    as_json: bool,
) -> None:
    """Print the log of a job, also while it is still running.

    --follow prints what is stored, then what the job prints as any butido process stores it,
    and ends with the job: exit code 0 when it succeeded, 1 (with its state) otherwise. On a
    terminal, control sequences from the log other than colour are shown, not obeyed (OSC
    titles, carriage returns, cursor movement); --raw writes the stored bytes."""
    from butido_py.db.logs import follow_log, log_head, read_log  # noqa: PLC0415 - SQLAlchemy

    db = app.database()
    head = log_head(db, job_uuid)
    if head is None:
        raise not_found("job", job_uuid)
    if attempt is not None and attempt > head.attempt:
        raise DatabaseError(
            f"job {job_uuid} has no attempt {attempt}",
            hint=f"it has had {head.attempt}; see them with `butido db job {job_uuid}`",
        )
    if as_json:
        _print_json(db, head, attempt)
        return
    if not follow:
        echo_log(read_log(db, head, attempt), raw=raw)
        if not head.state.finished and attempt in (None, head.attempt):
            click.echo(f"(job {job_uuid} is {head.state.value}; the log may grow)", err=True)
        return
    echo_log(_announced(follow_log(db, head, attempt), head.attempt), raw=raw)
    _end_of_follow(db, job_uuid)


def _announced(pieces: Iterable[LogPiece], first: int) -> Iterator[bytes]:
    """The bytes of the followed pieces; a new attempt (the job was retried) is announced."""
    current = first
    for piece in pieces:
        if piece.attempt != current:
            current = piece.attempt
            click.echo(f"(the job was retried: attempt {current})", err=True)
        yield piece.data


def _end_of_follow(db: Database, job_uuid: uuid.UUID) -> None:
    from butido_py.db.logs import log_head  # noqa: PLC0415 - SQLAlchemy

    final = log_head(db, job_uuid)
    if final is None or final.state.ok:
        return
    raise JobNotSucceededError(
        f"job {job_uuid} ended {final.state.value}",
        hint=f"see `butido db job {job_uuid}` for its failure",
    )


def _print_json(db: Database, head: LogHead, attempt: int | None) -> None:
    from butido_py.db.logs import read_log  # noqa: PLC0415 - SQLAlchemy

    data = b"".join(read_log(db, head, attempt))
    state = head.state
    print_json({"job": str(head.job_uuid), "state": state.value, "ok": state.ok,
                "finished": state.finished, "attempt": attempt or head.attempt,
                "log": data.decode("utf-8", "replace")})  # fmt: skip


COMMANDS: tuple[click.Command, ...] = (db_log_of,)
