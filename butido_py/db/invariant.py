"""The invariant between a submit and its jobs, checked here and nowhere else (docs/database.md).

1. A final submit (`succeeded`, `failed`, `canceled`, `lost`) has only final jobs.
2. A `succeeded` submit has only `succeeded` and `reused` jobs.

(3. Every file in a submit's staging directory has an artifact row: a property of the staging
directory, checked by `stores.staging`; see `settle_submit` and app/recovery.py for where.)

A build finishes its submit through `settle_submit`, which derives the state to record from the
jobs as the database has them, closes jobs left unfinished (records lost in an outage) and checks
the result in the same transaction. Crash recovery repairs what older versions left behind
(`find_contradictions`, `repair`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, func, or_, select, update

from butido_py.db.database import Database
from butido_py.db.jobs import close_jobs
from butido_py.db.models import JOBS, SUBMITS
from butido_py.errors import DatabaseError
from butido_py.states import (
    FailureKind,
    JobState,
    SubmitState,
    check_submit_transition,
)

UNFINISHED = (JobState.PLANNED, JobState.QUEUED, JobState.RUNNING)
OK = (JobState.SUCCEEDED, JobState.REUSED)


def violations(submit: SubmitState, jobs: Mapping[JobState, int]) -> list[str]:
    """What breaks the invariant, one phrase each (empty: it holds). `jobs`: state → count."""
    if submit is SubmitState.RUNNING:
        return []
    found = []
    unfinished = {s: n for s, n in jobs.items() if s in UNFINISHED and n}
    if unfinished:
        found.append(f"a {submit} submit has unfinished jobs ({_counts(unfinished)})")
    if submit is SubmitState.SUCCEEDED:
        bad = {s: n for s, n in jobs.items() if s not in OK and s not in UNFINISHED and n}
        if bad:
            found.append(f"a succeeded submit has jobs that did not succeed ({_counts(bad)})")
    return found


def derive_state(wanted: SubmitState, jobs: Iterable[JobState]) -> SubmitState:
    """The final state to record: `wanted`, except that a submit whose jobs did not all
    succeed (or are not all final) is never `succeeded`."""
    if wanted is SubmitState.SUCCEEDED and not all(JobState(j) in OK for j in jobs):
        return SubmitState.FAILED
    return wanted


def _counts(states: Mapping[JobState, int]) -> str:
    return ", ".join(f"{state} {count}" for state, count in sorted(states.items()))


@dataclass(frozen=True, slots=True)
class Settled:
    """How a submit was finished: its recorded state and the jobs closed on the way."""

    state: SubmitState
    #: Unfinished jobs moved to `failed` (kind infra: they were running) or `canceled`.
    jobs_failed: int = 0
    jobs_canceled: int = 0


def settle_submit(
    db: Database, submit_uuid: uuid.UUID, wanted: SubmitState, *, at: datetime
) -> Settled:
    """Move a running submit to its final state, in one transaction: the state is derived from
    its jobs (`derive_state`); jobs still unfinished (their records were lost) are closed — a
    running one `failed` (kind infra) when the submit fails, otherwise `canceled` — and the
    invariant is checked before the commit. Staging files without artifact rows are the
    caller's (`stores.staging`)."""
    check_submit_transition(SubmitState.RUNNING, wanted, submit=str(submit_uuid))
    with db.begin() as connection:
        row = connection.execute(
            select(SUBMITS.c.id, SUBMITS.c.state).where(SUBMITS.c.uuid == submit_uuid)
        ).one_or_none()
        if row is None:
            raise DatabaseError(f"submit {submit_uuid} does not exist")
        check_submit_transition(SubmitState(row.state), wanted, submit=str(submit_uuid))
        jobs = _job_states(connection, row.id)
        state = derive_state(wanted, jobs.elements())
        failed, canceled = _close_unfinished(connection, row.id, state, at=at)
        claimed = connection.execute(
            update(SUBMITS)
            .where(SUBMITS.c.id == row.id, SUBMITS.c.state == SubmitState.RUNNING)
            .values(state=state, finished_at=at)
        ).rowcount
        if claimed != 1:  # recovered as lost by another command between the read and here
            raise DatabaseError(f"submit {submit_uuid} changed state concurrently")
        check_submit(connection, row.id)
    return Settled(state=state, jobs_failed=failed, jobs_canceled=canceled)


def check_submit(connection: Connection, submit_id: int) -> None:
    """Raise when the submit breaks the invariant (inside the transaction that changed it, so
    that a contradiction is never committed)."""
    state = connection.execute(
        select(SUBMITS.c.state, SUBMITS.c.uuid).where(SUBMITS.c.id == submit_id)
    ).one()
    found = violations(SubmitState(state.state), _job_states(connection, submit_id))
    if found:
        raise DatabaseError(
            f"submit {state.uuid} would contradict its jobs: {'; '.join(found)}",
            hint="this is a bug in butido_py; please report it with the command you ran",
        )


def _job_states(connection: Connection, submit_id: int) -> Counter[JobState]:
    rows = connection.execute(
        select(JOBS.c.state, func.count())
        .where(JOBS.c.submit_id == submit_id)
        .group_by(JOBS.c.state)
    )
    return Counter({JobState(state): int(count) for state, count in rows})


def _close_unfinished(
    connection: Connection, submit_id: int, submit: SubmitState, *, at: datetime
) -> tuple[int, int]:
    """Running jobs of a failed submit become `failed` (infra), every other unfinished job
    `canceled`; returns (failed, canceled)."""
    failed = 0
    if submit is SubmitState.FAILED:
        failed = _close(connection, submit_id, (JobState.RUNNING,), JobState.FAILED, at=at)
    canceled = _close(connection, submit_id, UNFINISHED, JobState.CANCELED, at=at)
    return failed, canceled


def _close(
    connection: Connection,
    submit_id: int,
    states: tuple[JobState, ...],
    target: JobState,
    *,
    at: datetime,
) -> int:
    kind = {
        JobState.FAILED: FailureKind.INFRA,
        JobState.CANCELED: FailureKind.CANCELED,
        JobState.LOST: FailureKind.LOST,
    }[target]
    return close_jobs(connection, submit_id, states, target, kind, at=at)


# --- repairs (crash recovery) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contradiction:
    """A final submit that breaks the invariant (left by an older version)."""

    submit_id: int
    uuid: uuid.UUID
    state: SubmitState
    jobs: Mapping[JobState, int]

    def describe(self) -> str:
        return "; ".join(violations(self.state, self.jobs))


@dataclass(frozen=True, slots=True)
class Repaired:
    uuid: uuid.UUID
    was: SubmitState
    now: SubmitState
    #: Unfinished jobs closed, and the state they were given (`lost` or `canceled`).
    jobs_closed: int
    jobs_state: JobState
    problem: str


def find_contradictions(db: Database) -> list[Contradiction]:
    """Every final submit that breaks the invariant. Cheap enough for every command: unfinished
    jobs are few (ix_jobs_state), and failed jobs are only looked at in succeeded submits."""
    not_ok = [s for s in JobState if s not in OK and s not in UNFINISHED]
    wrong = or_(
        JOBS.c.state.in_(list(UNFINISHED)),
        and_(SUBMITS.c.state == SubmitState.SUCCEEDED, JOBS.c.state.in_(not_ok)),
    )
    with db.begin() as connection:
        bad = select(JOBS.c.submit_id).join(SUBMITS, SUBMITS.c.id == JOBS.c.submit_id)
        bad = bad.where(SUBMITS.c.state != SubmitState.RUNNING, wrong).distinct()
        rows = connection.execute(
            select(SUBMITS.c.id, SUBMITS.c.uuid, SUBMITS.c.state, JOBS.c.state, func.count())
            .join(JOBS, JOBS.c.submit_id == SUBMITS.c.id)
            .where(SUBMITS.c.id.in_(bad))
            .group_by(SUBMITS.c.id, SUBMITS.c.uuid, SUBMITS.c.state, JOBS.c.state)
            .order_by(SUBMITS.c.id)
        ).all()
    submits: dict[int, tuple[uuid.UUID, SubmitState]] = {}
    jobs: dict[int, Counter[JobState]] = {}
    for submit_id, submit_uuid, state, job_state, count in rows:
        submits[submit_id] = (submit_uuid, SubmitState(state))
        jobs.setdefault(submit_id, Counter())[JobState(job_state)] += int(count)
    return [Contradiction(i, u, s, jobs[i]) for i, (u, s) in submits.items()]


def repair(db: Database, found: Contradiction, *, at: datetime) -> Repaired | None:
    """Make the submit tell the truth, in one transaction: its unfinished jobs become `canceled`
    (a canceled submit) or `lost` (nobody knows how they ended), a `succeeded` submit becomes
    `failed`. None when the submit changed meanwhile (another command repaired it)."""
    jobs_state = JobState.CANCELED if found.state is SubmitState.CANCELED else JobState.LOST
    now = SubmitState.FAILED if found.state is SubmitState.SUCCEEDED else found.state
    with db.begin() as connection:
        claimed = connection.execute(
            update(SUBMITS)
            .where(SUBMITS.c.id == found.submit_id, SUBMITS.c.state == found.state)
            .values(state=now)
        ).rowcount
        if claimed != 1:
            return None
        closed = _close(connection, found.submit_id, UNFINISHED, jobs_state, at=at)
        check_submit(connection, found.submit_id)
    return Repaired(found.uuid, found.state, now, closed, jobs_state, found.describe())
