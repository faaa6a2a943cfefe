"""Job attempts (`job_attempts`): every try of a job on an endpoint.

A job whose container could not be created, filled, run or emptied because of its endpoint (not
because of its script) is retried on another endpoint; each try is one row, opened when the job
gets an endpoint and closed with its outcome. `jobs.attempt` is the number of the current try.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from butido_py.db.database import Database
from butido_py.db.lookups import get_or_create_id, id_of_uuid
from butido_py.db.models import ENDPOINTS, JOB_ATTEMPTS, JOBS
from butido_py.errors import DatabaseError
from butido_py.states import FailureKind


@dataclass(frozen=True, slots=True)
class JobAttemptRecord:
    job_uuid: uuid.UUID
    attempt: int
    endpoint: str | None
    container_hash: str | None
    started_at: datetime
    finished_at: datetime | None
    #: None while the attempt runs and when it succeeded.
    failure_kind: FailureKind | None
    error: str | None


def start_attempt(
    db: Database, job_uuid: uuid.UUID, *, attempt: int, endpoint: str, at: datetime
) -> None:
    """Attempt number `attempt` of the job starts on `endpoint`. Made again (a retry after a
    commit whose acknowledgement was lost) it changes nothing: one row per job and attempt."""
    with db.begin() as connection:
        job_id = id_of_uuid(connection, JOBS, job_uuid, "job")
        endpoint_id = get_or_create_id(connection, ENDPOINTS, {"name": endpoint})
        recorded = connection.execute(
            select(JOB_ATTEMPTS.c.endpoint_id).where(
                JOB_ATTEMPTS.c.job_id == job_id, JOB_ATTEMPTS.c.attempt == attempt
            )
        ).one_or_none()
        if recorded is None:
            connection.execute(
                JOB_ATTEMPTS.insert().values(
                    job_id=job_id, attempt=attempt, endpoint_id=endpoint_id, started_at=at
                )
            )
        elif recorded.endpoint_id != endpoint_id:
            raise DatabaseError(
                f"attempt {attempt} of job {job_uuid} is recorded on another endpoint",
                hint="this is a bug in butido_py; please report it with the command you ran",
            )


def finish_attempt(
    db: Database,
    job_uuid: uuid.UUID,
    *,
    attempt: int,
    at: datetime,
    container_hash: str | None = None,
    failure_kind: FailureKind | None = None,
    error: str | None = None,
) -> None:
    """Close the attempt: succeeded (no `failure_kind`) or failed, and why. Idempotent: made
    again, it writes the same values on the same row."""
    values: dict[str, object] = {"finished_at": at, "failure_kind": failure_kind, "error": error}
    if container_hash is not None:
        values["container_hash"] = container_hash
    with db.begin() as connection:
        job_id = id_of_uuid(connection, JOBS, job_uuid, "job")
        done = connection.execute(
            update(JOB_ATTEMPTS)
            .where(JOB_ATTEMPTS.c.job_id == job_id, JOB_ATTEMPTS.c.attempt == attempt)
            .values(**values)
        )
    if done.rowcount != 1:
        raise DatabaseError(f"job {job_uuid} has no attempt {attempt}")


def attempts_of_job(db: Database, job_uuid: uuid.UUID) -> list[JobAttemptRecord]:
    """The job's attempts, first one first (empty for jobs that never got an endpoint)."""
    with db.begin() as connection:
        rows = connection.execute(
            select(
                JOB_ATTEMPTS.c.attempt,
                ENDPOINTS.c.name.label("endpoint"),
                JOB_ATTEMPTS.c.container_hash,
                JOB_ATTEMPTS.c.started_at,
                JOB_ATTEMPTS.c.finished_at,
                JOB_ATTEMPTS.c.failure_kind,
                JOB_ATTEMPTS.c.error,
            )
            .join(JOBS, JOBS.c.id == JOB_ATTEMPTS.c.job_id)
            .outerjoin(ENDPOINTS, ENDPOINTS.c.id == JOB_ATTEMPTS.c.endpoint_id)
            .where(JOBS.c.uuid == job_uuid)
            .order_by(JOB_ATTEMPTS.c.attempt)
        )
        return [JobAttemptRecord(job_uuid=job_uuid, **row._asdict()) for row in rows]
