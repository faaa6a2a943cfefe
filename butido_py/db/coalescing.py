"""Coalescing of identical work in flight (DESIGN.md §8): the claim of a job key, and the state of
the job another submit runs with that key.

`claim_job_key` is one transaction serialized per key across processes (`Database.serialized`):
two builds that reach the same key at the same instant never both claim it. It writes the job's
key, then either names a job of another running submit that has the key in flight (the caller
waits for it) or moves this job to `queued` (the caller runs it). A claim tried again after its
commit went through unacknowledged finds the job `queued` with its key and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, Select, select, update

from butido_py.db.database import Database
from butido_py.db.models import JOBS, SUBMITS
from butido_py.errors import DatabaseError
from butido_py.states import JobState, SubmitState, check_job_transition

#: The states of a job another submit may share: in flight, or just finished well (it succeeded
#: between the caller's reuse check and its claim).
SHARED_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED)


@dataclass(frozen=True, slots=True)
class InFlightJob:
    """A job of another submit with the same key, and what tells whether its orchestrator lives."""

    uuid: UUID
    state: JobState
    submit_uuid: UUID
    submit_state: SubmitState
    orchestrator_host: str | None
    orchestrator_pid: int | None
    heartbeat_at: datetime | None


def _in_flight_select() -> Select[tuple[object, ...]]:
    return select(
        JOBS.c.uuid,
        JOBS.c.state,
        SUBMITS.c.uuid.label("submit_uuid"),
        SUBMITS.c.state.label("submit_state"),
        SUBMITS.c.orchestrator_host,
        SUBMITS.c.orchestrator_pid,
        SUBMITS.c.heartbeat_at,
    ).join(SUBMITS, SUBMITS.c.id == JOBS.c.submit_id)


def _record(row: object) -> InFlightJob:
    fields = row._asdict()  # type: ignore[attr-defined]
    fields["state"] = JobState(fields["state"])
    fields["submit_state"] = SubmitState(fields["submit_state"])
    return InFlightJob(**fields)


def claim_job_key(
    db: Database,
    job_uuid: UUID,
    job_key: str,
    document: str | None,
    *,
    at: datetime,
    passed: Collection[UUID] = (),
    usable: Callable[[InFlightJob], bool] = lambda _job: True,
) -> InFlightJob | None:
    """Write the job's key and, unless a job of another running submit shares it (succeeded or
    in flight, not in `passed`, and `usable`: its orchestrator lives), move the job to `queued`
    at `at` and return None; else return that job (a succeeded one first), leaving this one
    `planned`."""
    with db.serialized(f"job_key:{job_key}") as connection:
        if _claimed_before(connection, job_uuid, job_key):
            return None
        connection.execute(
            update(JOBS)
            .where(JOBS.c.uuid == job_uuid)
            .values(job_key=job_key, job_key_document=document)
        )
        for other in _shared(connection, job_uuid, job_key):
            if other.uuid not in passed and usable(other):
                return other
        _queue(connection, job_uuid, at)
    return None


def _claimed_before(connection: Connection, job_uuid: UUID, job_key: str) -> bool:
    """Whether an earlier try of this claim was committed (its acknowledgement was lost with the
    connection and the retry policy tries again): the job is `queued` with this key. A job is
    claimed only while `planned`, so nothing else leaves it so; the replay changes nothing (it
    must not name another submit's job now: this one is queued and will run)."""
    row = connection.execute(
        select(JOBS.c.state, JOBS.c.job_key).where(JOBS.c.uuid == job_uuid)
    ).one_or_none()
    return row is not None and row.state == JobState.QUEUED and row.job_key == job_key


def _shared(connection: Connection, job_uuid: UUID, job_key: str) -> list[InFlightJob]:
    """Jobs of running submits with this key, succeeded first, then oldest first."""
    rows = connection.execute(
        _in_flight_select()
        .where(
            JOBS.c.job_key == job_key,
            JOBS.c.uuid != job_uuid,
            JOBS.c.state.in_(sorted(SHARED_STATES)),
            SUBMITS.c.state == SubmitState.RUNNING,
        )
        .order_by(JOBS.c.id)
    )
    found = [_record(row) for row in rows]
    return sorted(found, key=lambda job: job.state is not JobState.SUCCEEDED)


def _queue(connection: Connection, job_uuid: UUID, at: datetime) -> None:
    done = connection.execute(
        update(JOBS)
        .where(JOBS.c.uuid == job_uuid, JOBS.c.state == JobState.PLANNED)
        .values(state=JobState.QUEUED, queued_at=at)
    )
    if done.rowcount == 1:
        return
    current = connection.execute(
        select(JOBS.c.state).where(JOBS.c.uuid == job_uuid)
    ).scalar_one_or_none()
    if current is None:
        raise DatabaseError(f"job {job_uuid} does not exist")
    check_job_transition(JobState(current), JobState.QUEUED, job=str(job_uuid))


def in_flight_job(db: Database, job_uuid: UUID) -> InFlightJob | None:
    """The job's state and its submit's now (one indexed read: waiting jobs poll it)."""
    with db.begin() as connection:
        row = connection.execute(_in_flight_select().where(JOBS.c.uuid == job_uuid)).one_or_none()
    return None if row is None else _record(row)
