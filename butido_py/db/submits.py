"""Submits: recording a whole build plan in one transaction, the submit's state, and queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, Select, exists, func, select, update

from butido_py.db.database import Database
from butido_py.db.lookups import get_or_create_envvar_ids, get_or_create_id, id_of_uuid
from butido_py.db.models import (
    ENVVARS,
    GITHASHES,
    IMAGES,
    JOB_DEPENDENCIES,
    JOB_ENVS,
    JOBS,
    PACKAGES,
    SUBMIT_ENVS,
    SUBMITS,
)
from butido_py.db.notify import STATE_CHANNEL, notify
from butido_py.db.records import (
    EnvPairs,
    PlannedJob,
    PlannedSubmit,
    PlanRecord,
    SubmitRecord,
)
from butido_py.errors import DatabaseError
from butido_py.states import JobState, SubmitKind, SubmitState, check_submit_transition

_PARENT = SUBMITS.alias("parent")


def submit_select() -> Select[tuple[object, ...]]:
    return (
        select(
            SUBMITS,
            IMAGES.c.name.label("image"),
            PACKAGES.c.name.label("package_name"),
            PACKAGES.c.version.label("package_version"),
            GITHASHES.c.hash.label("commit_hash"),
            _PARENT.c.uuid.label("parent_uuid"),
        )
        .join(IMAGES, IMAGES.c.id == SUBMITS.c.requested_image_id)
        .join(PACKAGES, PACKAGES.c.id == SUBMITS.c.requested_package_id)
        .join(GITHASHES, GITHASHES.c.id == SUBMITS.c.repo_hash_id)
        .outerjoin(_PARENT, _PARENT.c.id == SUBMITS.c.parent_submit_id)
    )


def submit_record(row: Row[tuple[object, ...]]) -> SubmitRecord:
    m = row._mapping
    return SubmitRecord(
        id=m[SUBMITS.c.id],
        uuid=m[SUBMITS.c.uuid],
        submit_time=m[SUBMITS.c.submit_time],
        image=m["image"],
        package_name=m["package_name"],
        package_version=m["package_version"],
        commit_hash=m["commit_hash"],
        kind=m[SUBMITS.c.kind],
        state=m[SUBMITS.c.state],
        finished_at=m[SUBMITS.c.finished_at],
        dirty=m[SUBMITS.c.dirty],
        commit_time=m[SUBMITS.c.commit_time],
        triggered_by=m[SUBMITS.c.triggered_by],
        parent_uuid=m["parent_uuid"],
        orchestrator_host=m[SUBMITS.c.orchestrator_host],
        orchestrator_pid=m[SUBMITS.c.orchestrator_pid],
        heartbeat_at=m[SUBMITS.c.heartbeat_at],
    )


# --- recording ----------------------------------------------------------------------------------


def record_plan(db: Database, submit: PlannedSubmit, jobs: Sequence[PlannedJob]) -> PlanRecord:
    """Write the submit, its env, every job (state `planned`), their edges and env — or nothing."""
    _check_plan(jobs)
    with db.begin() as connection:
        lookups = _create_lookups(connection, submit, jobs)
        submit_id = _insert_submit(connection, submit, lookups)
        job_ids = _insert_jobs(connection, submit_id, jobs, lookups)
        _insert_edges(connection, jobs, job_ids)
        _insert_envs(connection, submit_id, submit.env, jobs, job_ids)
        row = connection.execute(submit_select().where(SUBMITS.c.id == submit_id)).one()
    return PlanRecord(submit=submit_record(row), job_ids=job_ids)


def _check_plan(jobs: Sequence[PlannedJob]) -> None:
    uuids = [job.uuid for job in jobs]
    if len(set(uuids)) != len(uuids):
        raise DatabaseError("a build plan lists the same job uuid twice")
    known = set(uuids)
    for job in jobs:
        for edge in job.depends_on:
            if edge.depends_on not in known:
                raise DatabaseError(
                    f"job {job.uuid} ({job.package_name} {job.package_version}) depends on "
                    f"{edge.depends_on}, which is not part of the plan"
                )


@dataclass(frozen=True, slots=True)
class _LookupIds:
    images: dict[str, int]
    packages: dict[tuple[str, str], int]
    githash: int


def _create_lookups(
    connection: Connection, submit: PlannedSubmit, jobs: Sequence[PlannedJob]
) -> _LookupIds:
    """Get or create the plan's images, packages and commit in one global order (table by table,
    keys sorted): concurrent plans then wait for each other's new rows instead of deadlocking."""
    images = sorted({submit.image, *(j.image for j in jobs)})
    packages = sorted(
        {(submit.package_name, submit.package_version)}
        | {(j.package_name, j.package_version) for j in jobs}
    )
    return _LookupIds(
        images={name: get_or_create_id(connection, IMAGES, {"name": name}) for name in images},
        packages={
            key: get_or_create_id(connection, PACKAGES, {"name": key[0], "version": key[1]})
            for key in packages
        },
        githash=get_or_create_id(connection, GITHASHES, {"hash": submit.commit_hash}),
    )


def _insert_submit(connection: Connection, submit: PlannedSubmit, lookups: _LookupIds) -> int:
    parent_id = None
    if submit.parent_submit_uuid is not None:
        parent_id = id_of_uuid(connection, SUBMITS, submit.parent_submit_uuid, "parent submit")
    values = {
        "uuid": submit.uuid,
        "submit_time": submit.submit_time,
        "requested_image_id": lookups.images[submit.image],
        "requested_package_id": lookups.packages[(submit.package_name, submit.package_version)],
        "repo_hash_id": lookups.githash,
        "parent_submit_id": parent_id,
        "kind": submit.kind,
        "state": SubmitState.RUNNING,
        "dirty": submit.dirty,
        "commit_time": submit.commit_time,
        "triggered_by": submit.triggered_by,
        "orchestrator_host": submit.orchestrator_host,
        "orchestrator_pid": submit.orchestrator_pid,
        "heartbeat_at": submit.submit_time,
    }
    inserted = connection.execute(SUBMITS.insert().values(**values).returning(SUBMITS.c.id))
    return int(inserted.scalar_one())


def _insert_jobs(
    connection: Connection, submit_id: int, jobs: Sequence[PlannedJob], lookups: _LookupIds
) -> dict[uuid.UUID, int]:
    if not jobs:
        return {}
    rows = [
        {
            "submit_id": submit_id,
            "package_id": lookups.packages[(j.package_name, j.package_version)],
            "image_id": lookups.images[j.image],
            "script_text": j.script_text,
            "uuid": j.uuid,
            "state": JobState.PLANNED,
            "job_key": j.job_key,
            "image_digest": j.image_digest,
            "attempt": j.attempt,
        }
        for j in jobs
    ]
    connection.execute(JOBS.insert(), rows)
    ids = connection.execute(select(JOBS.c.uuid, JOBS.c.id).where(JOBS.c.submit_id == submit_id))
    return {row.uuid: row.id for row in ids}


def _insert_edges(
    connection: Connection, jobs: Sequence[PlannedJob], job_ids: dict[uuid.UUID, int]
) -> None:
    edges = {
        (job_ids[job.uuid], job_ids[edge.depends_on], edge.kind)
        for job in jobs
        for edge in job.depends_on
    }
    if edges:
        connection.execute(
            JOB_DEPENDENCIES.insert(),
            [{"job_id": a, "depends_on_job_id": b, "kind": k} for a, b, k in sorted(edges)],
        )


def _insert_envs(
    connection: Connection,
    submit_id: int,
    submit_env: EnvPairs,
    jobs: Sequence[PlannedJob],
    job_ids: dict[uuid.UUID, int],
) -> None:
    env_ids = get_or_create_envvar_ids(connection, [*submit_env, *(p for j in jobs for p in j.env)])
    submit_rows = {env_ids[pair] for pair in submit_env}
    if submit_rows:
        connection.execute(
            SUBMIT_ENVS.insert(),
            [{"submit_id": submit_id, "env_id": e} for e in sorted(submit_rows)],
        )
    # A set: the same NAME=value from the package and from -E is one row (butido aborted here).
    job_rows = {(job_ids[j.uuid], env_ids[pair]) for j in jobs for pair in j.env}
    if job_rows:
        connection.execute(
            JOB_ENVS.insert(), [{"job_id": j, "env_id": e} for j, e in sorted(job_rows)]
        )


def finish_submit(
    db: Database, submit_uuid: uuid.UUID, state: SubmitState, *, at: datetime
) -> None:
    """Move a running submit to its final state."""
    check_submit_transition(SubmitState.RUNNING, state, submit=str(submit_uuid))
    with db.begin() as connection:
        done = connection.execute(
            update(SUBMITS)
            .where(SUBMITS.c.uuid == submit_uuid, SUBMITS.c.state == SubmitState.RUNNING)
            .values(state=state, finished_at=at)
        )
        if done.rowcount == 1:
            notify(connection, STATE_CHANNEL, str(submit_uuid))  # wakes `db submit --watch`
            return
        current = connection.execute(
            select(SUBMITS.c.state).where(SUBMITS.c.uuid == submit_uuid)
        ).scalar_one_or_none()
    if current is None:
        raise DatabaseError(f"submit {submit_uuid} does not exist")
    check_submit_transition(current, state, submit=str(submit_uuid))


def record_heartbeat(db: Database, submit_uuid: uuid.UUID, *, at: datetime) -> None:
    with db.begin() as connection:
        connection.execute(
            update(SUBMITS).where(SUBMITS.c.uuid == submit_uuid).values(heartbeat_at=at)
        )


# --- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunningSubmitRecord:
    """A running submit and the orchestrator that runs it (crash recovery)."""

    id: int
    uuid: uuid.UUID
    orchestrator_host: str | None
    orchestrator_pid: int | None
    heartbeat_at: datetime | None


def running_submits(db: Database) -> list[RunningSubmitRecord]:
    """Every submit in state `running` (one query through ix_submits_state)."""
    with db.begin() as connection:
        rows = connection.execute(
            select(
                SUBMITS.c.id,
                SUBMITS.c.uuid,
                SUBMITS.c.orchestrator_host,
                SUBMITS.c.orchestrator_pid,
                SUBMITS.c.heartbeat_at,
            )
            .where(SUBMITS.c.state == SubmitState.RUNNING)
            .order_by(SUBMITS.c.id)
        )
        return [RunningSubmitRecord(**row._asdict()) for row in rows]


def find_submit(db: Database, submit_uuid: uuid.UUID) -> SubmitRecord | None:
    with db.begin() as connection:
        row = connection.execute(submit_select().where(SUBMITS.c.uuid == submit_uuid)).one_or_none()
    return None if row is None else submit_record(row)


def submit_env(db: Database, submit_id: int) -> EnvPairs:
    with db.begin() as connection:
        rows = connection.execute(
            select(ENVVARS.c.name, ENVVARS.c.value)
            .join(SUBMIT_ENVS, SUBMIT_ENVS.c.env_id == ENVVARS.c.id)
            .where(SUBMIT_ENVS.c.submit_id == submit_id)
            .order_by(ENVVARS.c.name, ENVVARS.c.value)
        )
        return tuple((row.name, row.value) for row in rows)


@dataclass(frozen=True, slots=True)
class SubmitFilter:
    with_package: str | None = None  # submits that contained a job for this package
    for_package: str | None = None  # submits whose root package is this one
    commit: str | None = None
    image: str | None = None
    limit: int | None = None  # None or 0: all
    states: Sequence[SubmitState] = ()
    kinds: Sequence[SubmitKind] = ()
    older_than: datetime | None = None  # of the submit time
    newer_than: datetime | None = None


def list_submits(db: Database, query: SubmitFilter) -> list[SubmitRecord]:
    """The newest `limit` submits that match, oldest first."""
    statement = _submits_matching(query).order_by(SUBMITS.c.submit_time.desc(), SUBMITS.c.id.desc())
    if query.limit:
        statement = statement.limit(query.limit)
    with db.begin() as connection:
        records = [submit_record(row) for row in connection.execute(statement)]
    records.reverse()
    return records


def count_submits(db: Database, query: SubmitFilter) -> int:
    """How many submits match, whatever the limit."""
    matching = _submits_matching(query).subquery()
    with db.begin() as connection:
        return int(connection.execute(select(func.count()).select_from(matching)).scalar_one())


def _submits_matching(query: SubmitFilter) -> Select[tuple[object, ...]]:
    statement = submit_select()
    if query.for_package is not None:
        statement = statement.where(PACKAGES.c.name == query.for_package)
    if query.with_package is not None:
        job_package = PACKAGES.alias()
        statement = statement.where(
            exists()
            .where(JOBS.c.submit_id == SUBMITS.c.id)
            .where(job_package.c.id == JOBS.c.package_id)
            .where(job_package.c.name == query.with_package)
        )
    if query.commit is not None:
        statement = statement.where(GITHASHES.c.hash.startswith(query.commit, autoescape=True))
    if query.image is not None:
        statement = statement.where(IMAGES.c.name == query.image)
    if query.states:
        statement = statement.where(SUBMITS.c.state.in_(list(query.states)))
    if query.kinds:
        statement = statement.where(SUBMITS.c.kind.in_(list(query.kinds)))
    if query.older_than is not None:
        statement = statement.where(SUBMITS.c.submit_time < query.older_than)
    if query.newer_than is not None:
        statement = statement.where(SUBMITS.c.submit_time > query.newer_than)
    return statement


def child_submits(db: Database, submit_id: int) -> list[SubmitRecord]:
    """The reruns and rebuilds of a submit, oldest first."""
    with db.begin() as connection:
        rows = connection.execute(
            submit_select()
            .where(SUBMITS.c.parent_submit_id == submit_id)
            .order_by(SUBMITS.c.submit_time, SUBMITS.c.id)
        )
        return [submit_record(row) for row in rows]
