"""`butido db submit UUID --watch`: a submit's job tree, live, until the submit ends.

On a terminal the tree (states, durations, the current phase of running jobs) is redrawn in
place; piped, every change is one event line. It looks again when a job's state or log changes
(PostgreSQL notifications, db/notify.py), or every half second on SQLite. The phases come from
the jobs' logs, read incrementally through db/logs.py (each chunk once).
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import click

from butido_py.cli.commands.db._shared import duration, not_found
from butido_py.errors import ButidoError, ExitCode
from butido_py.logproto import LogParser, RecordKind, terminal_safe
from butido_py.states import JobState, SubmitState

if TYPE_CHECKING:
    from butido_py.db.database import Database
    from butido_py.db.records import JobRecord, SubmitRecord

#: Seconds between two looks at the submit on SQLite ...
WATCH_SECONDS: Final = 0.5
#: ... and on PostgreSQL, where a state change or a stored log chunk wakes the watch at once
#: (db/notify.py): a look now and then for the writes that do not notify.
NOTIFIED_WATCH_SECONDS: Final = 2.0
#: Seconds at least between two looks on PostgreSQL: a burst of notifications is one redraw.
MIN_GAP_SECONDS: Final = 0.1


class SubmitNotSucceededError(ButidoError):
    exit_code = ExitCode.FAILURE


class PhaseReader:
    """The last `#BUTIDO:PHASE:` of each job's current attempt, reading only new chunks."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._seen: dict[tuple[int, int], tuple[int, LogParser]] = {}
        self.phases: dict[int, str] = {}

    def update(self, job: JobRecord) -> str | None:
        from butido_py.db.logs import chunks_after  # noqa: PLC0415 - SQLAlchemy

        key = (job.id, job.attempt)
        after, parser = self._seen.get(key, (-1, LogParser()))
        while batch := chunks_after(self._db, job.id, job.attempt, after):
            for seq, data in batch:
                for record in parser.feed(data):
                    if record.kind is RecordKind.PHASE:
                        self.phases[job.id] = record.value
                after = seq
        self._seen[key] = (after, parser)
        return self.phases.get(job.id)


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    name: str
    version: str
    state: str
    took: str
    phase: str

    def line(self) -> str:
        return f"{self.label:<40} {self.version:<12} {self.state:<11} {self.took:>9}  {self.phase}"


def watch_submit(db: Database, submit_uuid: uuid.UUID) -> None:
    """Draw the submit until it ends; raises unless it succeeded."""
    from butido_py.db.jobs import jobs_of_submit  # noqa: PLC0415 - SQLAlchemy
    from butido_py.db.notify import STATE_CHANNEL, log_channel, waiter  # noqa: PLC0415

    submit = _find(db, submit_uuid)
    jobs, _ = jobs_of_submit(db, submit.id)
    channels = [STATE_CHANNEL, *(log_channel(job.id) for job in jobs)]
    notified = db.dialect == "postgresql"
    screen = Screen(submit_uuid, terminal=sys.stdout.isatty())
    phases = PhaseReader(db)
    with waiter(db, channels) as wait:  # listening before the first look: nothing is missed
        while True:
            submit = _find(db, submit_uuid)
            screen.show(submit.state, _rows(db, submit.id, phases))
            if submit.state is not SubmitState.RUNNING:
                break
            wait(NOTIFIED_WATCH_SECONDS if notified else WATCH_SECONDS)
            if notified:
                time.sleep(MIN_GAP_SECONDS)
    screen.end(submit.state)
    if submit.state is not SubmitState.SUCCEEDED:
        raise SubmitNotSucceededError(
            f"submit {submit_uuid} ended {submit.state.value}",
            hint=f"see its failed jobs with `butido db jobs --submit {submit_uuid} --state failed`",
        )


def _find(db: Database, submit_uuid: uuid.UUID) -> SubmitRecord:
    from butido_py.db.submits import find_submit  # noqa: PLC0415 - SQLAlchemy

    submit = find_submit(db, submit_uuid)
    if submit is None:
        raise not_found("submit", submit_uuid)
    return submit


class Screen:
    """The tree redrawn in place on a terminal; piped, one event line per change."""

    def __init__(self, submit_uuid: uuid.UUID, *, terminal: bool) -> None:
        self._submit = submit_uuid
        self._terminal = terminal
        self._shown: list[str] = []
        self._events: dict[uuid.UUID, tuple[str, str]] = {}

    def show(self, state: SubmitState, rows: Sequence[tuple[uuid.UUID, Row]]) -> None:
        if self._terminal:
            header = f"Submit {self._submit}: {state.value}"
            self._shown = _redraw(self._shown, [header, *(row.line() for _, row in rows)])
        else:
            _events(rows, self._events)

    def end(self, state: SubmitState) -> None:
        if not self._terminal:
            click.echo(f"submit {self._submit} {state.value}")


def _rows(db: Database, submit_id: int, phases: PhaseReader) -> list[tuple[uuid.UUID, Row]]:
    from butido_py.cli.commands.db.submits import job_tree  # noqa: PLC0415
    from butido_py.db.jobs import jobs_of_submit  # noqa: PLC0415 - SQLAlchemy

    jobs, edges = jobs_of_submit(db, submit_id)
    now = datetime.now(UTC)
    rows = []
    for job, label in job_tree(jobs, edges):
        running = job.state is JobState.RUNNING
        phase = phases.update(job) if running else None
        end = job.finished_at or (now if running else None)
        row = Row(label, job.package_name, job.package_version, job.state.value,
                  duration(job.started_at, end) or "-", terminal_safe(phase or ""))  # fmt: skip
        rows.append((job.uuid, row))
    return rows


def _redraw(shown: Sequence[str], lines: list[str]) -> list[str]:
    """The frame in place of the previous one (cursor up, clear to the end of the screen)."""
    if shown:
        click.echo(f"\x1b[{len(shown)}F\x1b[J", nl=False)
    click.echo("\n".join(lines))
    return lines


def _events(rows: Sequence[tuple[uuid.UUID, Row]], seen: dict[uuid.UUID, tuple[str, str]]) -> None:
    """One line per job whose state or phase changed since the last look."""
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    for job, row in rows:
        now = (row.state, row.phase)
        if seen.get(job) != now:
            seen[job] = now
            phase = f" (phase {row.phase})" if row.phase else ""
            click.echo(f"{stamp} {row.name} {row.version} {row.state}{phase} {row.took} job {job}")
