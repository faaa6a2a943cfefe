"""Jobs: state transitions with their timestamps, the live log, and the queries of `db jobs/job`.

A transition is one conditional UPDATE (`… WHERE state IN (allowed predecessors)`), so two
writers can never both move the same job; a refused transition raises `TransitionError`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, func, select, update

from butido_py.db.database import Database
from butido_py.db.lookups import get_or_create_id, id_of_uuid
from butido_py.db.models import (
    ENDPOINTS,
    ENVVARS,
    IMAGES,
    JOB_ATTEMPTS,
    JOB_DEPENDENCIES,
    JOB_ENVS,
    JOBS,
    PACKAGES,
    SUBMITS,
)
from butido_py.db.notify import STATE_CHANNEL, notify
from butido_py.db.records import (
    JobDependencyRecord,
    JobDetailRecord,
    JobRecord,
)
from butido_py.errors import DatabaseError
from butido_py.states import (
    FailureKind,
    JobState,
    SubmitState,
    TransitionError,
    check_job_transition,
    check_submit_transition,
    job_predecessors,
)

_ROOT = PACKAGES.alias("root_package")
_REUSED = JOBS.alias("reused_from")


def job_select() -> Select[tuple[object, ...]]:
    return (
        select(
            JOBS.c.id,
            JOBS.c.uuid,
            JOBS.c.container_hash,
            JOBS.c.state,
            JOBS.c.failure_kind,
            JOBS.c.exit_code,
            JOBS.c.queued_at,
            JOBS.c.started_at,
            JOBS.c.finished_at,
            JOBS.c.image_digest,
            JOBS.c.job_key,
            JOBS.c.attempt,
            SUBMITS.c.uuid.label("submit_uuid"),
            SUBMITS.c.submit_time,
            PACKAGES.c.name.label("package_name"),
            PACKAGES.c.version.label("package_version"),
            IMAGES.c.name.label("image"),
            ENDPOINTS.c.name.label("endpoint"),
            _REUSED.c.uuid.label("reused_from_uuid"),
            _ROOT.c.name.label("root_package_name"),
            _ROOT.c.version.label("root_package_version"),
        )
        .select_from(JOBS)
        .join(SUBMITS, SUBMITS.c.id == JOBS.c.submit_id)
        .join(PACKAGES, PACKAGES.c.id == JOBS.c.package_id)
        .join(IMAGES, IMAGES.c.id == JOBS.c.image_id)
        .join(_ROOT, _ROOT.c.id == SUBMITS.c.requested_package_id)
        .outerjoin(ENDPOINTS, ENDPOINTS.c.id == JOBS.c.endpoint_id)
        .outerjoin(_REUSED, _REUSED.c.id == JOBS.c.reused_from_job_id)
    )


def job_record(row: Row[tuple[object, ...]]) -> JobRecord:
    return JobRecord(**row._asdict())


# --- transitions --------------------------------------------------------------------------------


def _transition(db: Database, job_uuid: uuid.UUID, target: JobState, **values: Any) -> None:
    with db.begin() as connection:
        if "endpoint" in values:
            name = values.pop("endpoint")
            values["endpoint_id"] = get_or_create_id(connection, ENDPOINTS, {"name": name})
        if "reused_from" in values:
            source = values.pop("reused_from")
            values["reused_from_job_id"] = id_of_uuid(connection, JOBS, source, "job")
        done = connection.execute(
            update(JOBS)
            .where(JOBS.c.uuid == job_uuid, JOBS.c.state.in_(sorted(job_predecessors(target))))
            .values(state=target, **values)
        )
        if done.rowcount == 1:
            notify(connection, STATE_CHANNEL, str(job_uuid))  # wakes followers and watchers
            return
        current = _state_of(connection, job_uuid)
    check_job_transition(current, target, job=str(job_uuid))
    raise DatabaseError(f"job {job_uuid} changed state concurrently")  # pragma: no cover


def mark_queued(db: Database, job_uuid: uuid.UUID, *, at: datetime) -> None:
    _transition(db, job_uuid, JobState.QUEUED, queued_at=at)


def mark_running(
    db: Database,
    job_uuid: uuid.UUID,
    *,
    endpoint: str,
    at: datetime,
    container_hash: str | None = None,
    image_digest: str | None = None,
) -> None:
    values: dict[str, Any] = {"endpoint": endpoint, "started_at": at}
    if container_hash is not None:
        values["container_hash"] = container_hash
    if image_digest is not None:
        values["image_digest"] = image_digest
    _transition(db, job_uuid, JobState.RUNNING, **values)


def mark_succeeded(
    db: Database,
    job_uuid: uuid.UUID,
    *,
    at: datetime,
    exit_code: int = 0,
    log_text: str | None = None,
) -> None:
    """`log_text`: a whole log given at the end, kept in butido's column (db/logs.py reads it
    when the job has no log chunk); None keeps what is there."""
    values: dict[str, Any] = {"finished_at": at, "exit_code": exit_code}
    if log_text is not None:
        values["log_text"] = log_text
    _transition(db, job_uuid, JobState.SUCCEEDED, **values)


def mark_failed(
    db: Database,
    job_uuid: uuid.UUID,
    *,
    at: datetime,
    failure_kind: FailureKind,
    exit_code: int | None = None,
    log_text: str | None = None,
) -> None:
    values: dict[str, Any] = {"finished_at": at, "failure_kind": failure_kind}
    if exit_code is not None:
        values["exit_code"] = exit_code
    if log_text is not None:
        values["log_text"] = log_text
    _transition(db, job_uuid, JobState.FAILED, **values)


def mark_dep_failed(db: Database, job_uuid: uuid.UUID, *, at: datetime) -> None:
    _transition(db, job_uuid, JobState.DEP_FAILED, finished_at=at)


def mark_reused(db: Database, job_uuid: uuid.UUID, *, reused_from: uuid.UUID, at: datetime) -> None:
    _transition(db, job_uuid, JobState.REUSED, reused_from=reused_from, finished_at=at)


def mark_canceled(db: Database, job_uuid: uuid.UUID, *, at: datetime) -> None:
    _transition(db, job_uuid, JobState.CANCELED, finished_at=at, failure_kind=FailureKind.CANCELED)


def mark_lost(db: Database, job_uuid: uuid.UUID, *, at: datetime) -> None:
    _transition(db, job_uuid, JobState.LOST, finished_at=at, failure_kind=FailureKind.LOST)


def mark_retried(db: Database, job_uuid: uuid.UUID, *, attempt: int, at: datetime) -> None:
    """An attempt failed for infrastructure reasons: the job is `queued` again for attempt
    number `attempt`, with no endpoint, container or log yet (`job_attempts` keeps the failed
    attempt). Allowed from `running` and from `queued` (when no container ever started)."""
    retriable = (JobState.QUEUED, JobState.RUNNING)
    with db.begin() as connection:
        done = connection.execute(
            update(JOBS)
            .where(JOBS.c.uuid == job_uuid, JOBS.c.state.in_(retriable))
            .values(
                state=JobState.QUEUED,
                attempt=attempt,
                queued_at=at,
                started_at=None,
                endpoint_id=None,
                container_hash=None,
                exit_code=None,
                log_text=None,
            )
        )
        if done.rowcount == 1:
            notify(connection, STATE_CHANNEL, str(job_uuid))
            return
        current = _state_of(connection, job_uuid)
    raise TransitionError(
        f"job {job_uuid} cannot be retried from {current}: only queued and running jobs can",
        hint="this is a bug in the caller: see the job states in docs/database.md",
    )


def set_container(db: Database, job_uuid: uuid.UUID, container_hash: str) -> None:
    """The container id, once known (it may be created after the job was marked running)."""
    _update_job(db, job_uuid, container_hash=container_hash)


def set_job_key(
    db: Database, job_uuid: uuid.UUID, job_key: str, document: str | None = None
) -> None:
    """The job key, once the job's inputs are known (see `find_reusable_jobs`), and the JSON
    document of its components (see `find_key_documents`)."""
    _update_job(db, job_uuid, job_key=job_key, job_key_document=document)


def _state_of(connection: Connection, job_uuid: uuid.UUID) -> JobState:
    """The job's state now (after a conditional update that did not match)."""
    current = connection.execute(
        select(JOBS.c.state).where(JOBS.c.uuid == job_uuid)
    ).scalar_one_or_none()
    if current is None:
        raise DatabaseError(f"job {job_uuid} does not exist")
    return JobState(current)


def _update_job(db: Database, job_uuid: uuid.UUID, **values: Any) -> None:
    with db.begin() as connection:
        done = connection.execute(update(JOBS).where(JOBS.c.uuid == job_uuid).values(**values))
    if done.rowcount != 1:
        raise DatabaseError(f"job {job_uuid} does not exist")


def abandon_submit(
    db: Database, submit_uuid: uuid.UUID, state: SubmitState, *, at: datetime
) -> int:
    """Ctrl-C (`canceled`) or a dead orchestrator (`lost`): every unfinished job of the submit and
    the submit itself move to `state`, in one transaction. Returns the number of jobs moved."""
    if state not in (SubmitState.CANCELED, SubmitState.LOST):
        raise DatabaseError(f"a submit is abandoned as canceled or lost, not {state}")
    with db.begin() as connection:
        submit_id = id_of_uuid(connection, SUBMITS, submit_uuid, "submit")
        moved = _abandon_jobs(connection, submit_id, state, at=at)
        current = connection.execute(
            select(SUBMITS.c.state).where(SUBMITS.c.id == submit_id)
        ).scalar_one()
        check_submit_transition(current, state, submit=str(submit_uuid))
        connection.execute(
            update(SUBMITS).where(SUBMITS.c.id == submit_id).values(state=state, finished_at=at)
        )
    return moved


def _abandon_jobs(
    connection: Connection, submit_id: int, state: SubmitState, *, at: datetime
) -> int:
    """The submit's unfinished jobs and their open attempts move to `state` (canceled or lost);
    returns the number of jobs moved."""
    job_state = JobState(state.value)
    return close_jobs(
        connection,
        submit_id,
        sorted(job_predecessors(job_state)),
        job_state,
        FailureKind(state.value),
        at=at,
    )


def close_jobs(
    connection: Connection,
    submit_id: int,
    states: Iterable[JobState],
    target: JobState,
    kind: FailureKind,
    *,
    at: datetime,
) -> int:
    """The submit's jobs in one of `states` move to `target` with failure `kind`, and their
    open attempts end with it; returns the number of jobs moved (one transaction: the caller's)."""
    which = (JOBS.c.submit_id == submit_id, JOBS.c.state.in_(list(states)))
    connection.execute(
        update(JOB_ATTEMPTS)
        .where(
            JOB_ATTEMPTS.c.job_id.in_(select(JOBS.c.id).where(*which)),
            JOB_ATTEMPTS.c.finished_at.is_(None),
        )
        .values(finished_at=at, failure_kind=kind)
    )
    moved = connection.execute(
        update(JOBS).where(*which).values(state=target, finished_at=at, failure_kind=kind)
    ).rowcount
    return int(moved)


def mark_submit_lost(
    db: Database, submit_id: int, *, at: datetime, heartbeat_at: datetime | None
) -> int | None:
    """The orchestrator of a running submit died: the submit, its unfinished jobs and their open
    attempts become `lost`, in one transaction. The submit's UPDATE decides (`state = running`
    and the heartbeat still the one seen), so when two commands recover the same submit at once
    exactly one does it and the other gets None, as does a submit that finished or showed a sign
    of life meanwhile. Returns the number of jobs marked lost."""
    with db.begin() as connection:
        claimed = connection.execute(
            update(SUBMITS)
            .where(
                SUBMITS.c.id == submit_id,
                SUBMITS.c.state == SubmitState.RUNNING,
                SUBMITS.c.heartbeat_at.is_not_distinct_from(heartbeat_at),
            )
            .values(state=SubmitState.LOST, finished_at=at)
        ).rowcount
        if claimed != 1:
            return None
        return _abandon_jobs(connection, submit_id, SubmitState.LOST, at=at)


# --- queries ------------------------------------------------------------------------------------


def find_reusable_jobs(db: Database, job_key: str, *, limit: int = 5) -> list[JobRecord]:
    """Succeeded jobs with this job key, newest first: candidates for reuse by content (the
    caller checks that their artifacts still exist)."""
    with db.begin() as connection:
        rows = connection.execute(
            job_select()
            .where(JOBS.c.job_key == job_key, JOBS.c.state == JobState.SUCCEEDED)
            .order_by(JOBS.c.finished_at.desc(), JOBS.c.id.desc())
            .limit(limit)
        )
        return [job_record(row) for row in rows]


def find_key_document(db: Database, job_uuid: uuid.UUID) -> str | None:
    """The JSON document of the job's key components (None before its key was known)."""
    with db.begin() as connection:
        return connection.execute(
            select(JOBS.c.job_key_document).where(JOBS.c.uuid == job_uuid)
        ).scalar_one_or_none()


def find_earlier_key_documents(
    db: Database, name: str, version: str, *, before: uuid.UUID | None = None, limit: int = 20
) -> list[tuple[uuid.UUID, str]]:
    """(job uuid, key document) of the newest succeeded jobs of this package version, newest
    first; `before`: only jobs recorded before that job."""
    query = (
        select(JOBS.c.uuid, JOBS.c.job_key_document)
        .where(*_earlier(name, version, before), JOBS.c.job_key_document.is_not(None))
        .order_by(JOBS.c.id.desc())
        .limit(limit)
    )
    with db.begin() as connection:
        return [(row[0], row[1]) for row in connection.execute(query)]


def count_earlier_without_document(
    db: Database, name: str, version: str, before: uuid.UUID | None = None
) -> int:
    """Succeeded jobs of this package version recorded without a key document (before 0003)."""
    query = select(func.count()).where(
        *_earlier(name, version, before), JOBS.c.job_key_document.is_(None)
    )
    with db.begin() as connection:
        return int(connection.execute(query).scalar_one())


def _earlier(name: str, version: str, before: uuid.UUID | None) -> list[ColumnElement[bool]]:
    package = select(PACKAGES.c.id).where(PACKAGES.c.name == name, PACKAGES.c.version == version)
    conditions = [
        JOBS.c.package_id.in_(package.scalar_subquery()),
        JOBS.c.state == JobState.SUCCEEDED,
    ]
    if before is not None:
        earlier = select(JOBS.c.id).where(JOBS.c.uuid == before).scalar_subquery()
        conditions.append(JOBS.c.id < earlier)
    return conditions


def find_job(db: Database, job_uuid: uuid.UUID) -> JobRecord | None:
    with db.begin() as connection:
        row = connection.execute(job_select().where(JOBS.c.uuid == job_uuid)).one_or_none()
    return None if row is None else job_record(row)


def find_job_detail(db: Database, job_uuid: uuid.UUID) -> JobDetailRecord | None:
    with db.begin() as connection:
        row = connection.execute(
            job_select().add_columns(JOBS.c.script_text).where(JOBS.c.uuid == job_uuid)
        ).one_or_none()
        if row is None:
            return None
        env = connection.execute(
            select(ENVVARS.c.name, ENVVARS.c.value)
            .join(JOB_ENVS, JOB_ENVS.c.env_id == ENVVARS.c.id)
            .where(JOB_ENVS.c.job_id == row.id)
            .order_by(ENVVARS.c.name, ENVVARS.c.value)
        )
        pairs = tuple((e.name, e.value) for e in env)
    fields = row._asdict()
    script_text = fields.pop("script_text")
    return JobDetailRecord(JobRecord(**fields), script_text, pairs)


def jobs_of_submit(
    db: Database, submit_id: int
) -> tuple[list[JobRecord], list[JobDependencyRecord]]:
    """Every job of a submit (in plan order) and the edges between them."""
    needed = JOBS.alias("needed")
    with db.begin() as connection:
        jobs = [
            job_record(row)
            for row in connection.execute(
                job_select().where(JOBS.c.submit_id == submit_id).order_by(JOBS.c.id)
            )
        ]
        edges = connection.execute(
            select(JOBS.c.uuid, needed.c.uuid.label("needed_uuid"), JOB_DEPENDENCIES.c.kind)
            .join(JOB_DEPENDENCIES, JOB_DEPENDENCIES.c.job_id == JOBS.c.id)
            .join(needed, needed.c.id == JOB_DEPENDENCIES.c.depends_on_job_id)
            .where(JOBS.c.submit_id == submit_id)
            .order_by(JOBS.c.id, needed.c.id, JOB_DEPENDENCIES.c.kind)
        )
        return jobs, [JobDependencyRecord(e.uuid, e.needed_uuid, e.kind) for e in edges]


def recorded_inputs_of_submit(
    db: Database, submit_id: int
) -> dict[uuid.UUID, tuple[str, tuple[tuple[str, str], ...]]]:
    """job uuid → (script, final environment sorted by name) of every job of a submit, in two
    queries (rebuilds and reruns run exactly what was recorded)."""
    with db.begin() as connection:
        scripts = {
            row.uuid: row.script_text
            for row in connection.execute(
                select(JOBS.c.uuid, JOBS.c.script_text).where(JOBS.c.submit_id == submit_id)
            )
        }
        envs: dict[uuid.UUID, list[tuple[str, str]]] = {job: [] for job in scripts}
        for row in connection.execute(
            select(JOBS.c.uuid, ENVVARS.c.name, ENVVARS.c.value)
            .join(JOB_ENVS, JOB_ENVS.c.job_id == JOBS.c.id)
            .join(ENVVARS, ENVVARS.c.id == JOB_ENVS.c.env_id)
            .where(JOBS.c.submit_id == submit_id)
            .order_by(ENVVARS.c.name, ENVVARS.c.value)
        ):
            envs[row.uuid].append((row.name, row.value))
    return {job: (script, tuple(envs[job])) for job, script in scripts.items()}


@dataclass(frozen=True, slots=True)
class JobFilter:
    submit_uuid: uuid.UUID | None = None
    image: str | None = None
    env: tuple[str, str] | None = None
    older_than: datetime | None = None  # of the submit time, as butido
    newer_than: datetime | None = None
    endpoint: str | None = None
    package: str | None = None
    states: Sequence[JobState] = ()
    limit: int | None = None  # None or 0: all


def list_jobs(db: Database, query: JobFilter) -> list[JobRecord]:
    """The newest `limit` jobs that match, oldest first."""
    with db.begin() as connection:
        conditions = _all_conditions(connection, query)
        if conditions is None:
            return []
        # Newest submits first: PostgreSQL walks ix_submits_submit_time backwards (also when a
        # time filter skips most of the history) and sorts only the jobs of the submits it reached.
        statement = (
            job_select()
            .where(*conditions)
            .order_by(SUBMITS.c.submit_time.desc(), SUBMITS.c.id.desc(), JOBS.c.id.desc())
        )
        if query.limit:
            statement = statement.limit(query.limit)
        records = [job_record(row) for row in connection.execute(statement)]
    records.reverse()
    return records


def count_jobs(db: Database, query: JobFilter) -> int:
    """How many jobs match, whatever the limit (to say what a limited listing left out)."""
    with db.begin() as connection:
        conditions = _all_conditions(connection, query)
        if conditions is None:
            return 0
        matching = job_select().where(*conditions).subquery()
        return int(connection.execute(select(func.count()).select_from(matching)).scalar_one())


def _all_conditions(connection: Connection, query: JobFilter) -> list[ColumnElement[bool]] | None:
    conditions = _job_conditions(connection, query)
    if conditions and (query.package is not None or query.env is not None):
        conditions = _few_jobs_by_id(connection, conditions)
    if conditions is None:
        return None
    if query.older_than is not None:
        conditions.append(SUBMITS.c.submit_time < query.older_than)
    if query.newer_than is not None:
        conditions.append(SUBMITS.c.submit_time > query.newer_than)
    return conditions


def _job_conditions(connection: Connection, query: JobFilter) -> list[ColumnElement[bool]] | None:
    """The filters on the jobs' own columns (not the time filters), names resolved to ids; None
    when a name is unknown: nothing can match, and nothing needs to be searched."""
    conditions: list[ColumnElement[bool]] = []
    by_name = (
        (query.package, PACKAGES.c.name, JOBS.c.package_id),
        (query.image, IMAGES.c.name, JOBS.c.image_id),
        (query.endpoint, ENDPOINTS.c.name, JOBS.c.endpoint_id),
        (query.submit_uuid, SUBMITS.c.uuid, JOBS.c.submit_id),
    )
    for wanted, key, job_column in by_name:
        if wanted is not None:
            ids = connection.execute(select(key.table.c.id).where(key == wanted)).scalars().all()
            if not ids:
                return None
            conditions.append(job_column.in_(ids))
    if query.env is not None:
        env_id = connection.execute(
            select(ENVVARS.c.id).where(
                ENVVARS.c.name == query.env[0], ENVVARS.c.value == query.env[1]
            )
        ).scalar()
        if env_id is None:
            return None
        with_env = select(JOB_ENVS.c.job_id).where(JOB_ENVS.c.env_id == env_id)
        conditions.append(JOBS.c.id.in_(with_env))
    if query.states:
        conditions.append(JOBS.c.state.in_(sorted(query.states)))
    return conditions


#: Up to this many matching jobs are fetched by id rather than found by walking the history.
FEW_JOBS = 2000


def _few_jobs_by_id(
    connection: Connection, conditions: list[ColumnElement[bool]]
) -> list[ColumnElement[bool]] | None:
    """Packages and env vars have thousands of values, so the planner cannot know that one has 3
    jobs among millions, and would walk all of them from the newest submit to find 10. A bounded
    probe through their indexes tells: few matches are then fetched by id (None: no match)."""
    probe = select(JOBS.c.id).where(*conditions).limit(FEW_JOBS + 1)
    ids = connection.execute(probe).scalars().all()
    if not ids:
        return None
    return conditions if len(ids) > FEW_JOBS else [JOBS.c.id.in_(ids)]
