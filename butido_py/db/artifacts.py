"""Artifacts: the files a job produced (with sha256 and size), the artifacts a job consumed, and
reproducibility verdicts of rebuilds."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Row, Select, func, select
from sqlalchemy.engine import Connection

from butido_py.db.database import Database
from butido_py.db.lookups import get_or_create_id, id_of_uuid
from butido_py.db.models import (
    ARTIFACTS,
    JOB_INPUT_ARTIFACTS,
    JOBS,
    PACKAGES,
    REBUILD_RESULTS,
    RELEASES,
    SUBMITS,
)
from butido_py.db.records import (
    ArtifactInput,
    ArtifactRecord,
    JobOutputRecord,
    RebuildResultRecord,
)
from butido_py.states import RebuildVerdict


def _artifact_select() -> Select[tuple[object, ...]]:
    newest_release = (
        select(func.max(RELEASES.c.release_date))
        .where(RELEASES.c.artifact_id == ARTIFACTS.c.id)
        .scalar_subquery()
    )
    return (
        select(
            ARTIFACTS.c.id,
            ARTIFACTS.c.path,
            JOBS.c.uuid.label("job_uuid"),
            SUBMITS.c.uuid.label("submit_uuid"),
            ARTIFACTS.c.sha256,
            ARTIFACTS.c.size,
            newest_release.label("released_at"),
        )
        .join(JOBS, JOBS.c.id == ARTIFACTS.c.job_id)
        .join(SUBMITS, SUBMITS.c.id == JOBS.c.submit_id)
    )


def _record(row: Row[tuple[object, ...]]) -> ArtifactRecord:
    return ArtifactRecord(**row._asdict())


def record_artifacts(
    db: Database, job_uuid: uuid.UUID, artifacts: Sequence[ArtifactInput]
) -> list[ArtifactRecord]:
    """One row per file the job left in /outputs."""
    with db.begin() as connection:
        job_id = id_of_uuid(connection, JOBS, job_uuid, "job")
        if artifacts:
            connection.execute(
                ARTIFACTS.insert(),
                [
                    {"path": a.path, "job_id": job_id, "sha256": a.sha256, "size": a.size}
                    for a in artifacts
                ],
            )
        rows = connection.execute(
            _artifact_select().where(ARTIFACTS.c.job_id == job_id).order_by(ARTIFACTS.c.id)
        )
        return [_record(row) for row in rows]


def record_job_inputs(db: Database, job_uuid: uuid.UUID, artifact_ids: Iterable[int]) -> None:
    """The exact artifacts that were copied into the job's /inputs."""
    with db.begin() as connection:
        job_id = id_of_uuid(connection, JOBS, job_uuid, "job")
        rows = [{"job_id": job_id, "artifact_id": a} for a in sorted(set(artifact_ids))]
        if rows:
            connection.execute(JOB_INPUT_ARTIFACTS.insert(), rows)


def input_artifacts(db: Database, job_uuid: uuid.UUID) -> list[ArtifactRecord]:
    with db.begin() as connection:
        rows = connection.execute(
            _artifact_select()
            .join(JOB_INPUT_ARTIFACTS, JOB_INPUT_ARTIFACTS.c.artifact_id == ARTIFACTS.c.id)
            .where(
                JOB_INPUT_ARTIFACTS.c.job_id
                == select(JOBS.c.id).where(JOBS.c.uuid == job_uuid).scalar_subquery()
            )
            .order_by(ARTIFACTS.c.id)
        )
        return [_record(row) for row in rows]


def artifacts_of_jobs(db: Database, job_ids: Sequence[int]) -> dict[int, list[ArtifactRecord]]:
    """job id -> its artifacts (for listings: one query for a page of jobs)."""
    found: dict[int, list[ArtifactRecord]] = {job_id: [] for job_id in job_ids}
    with db.begin() as connection:
        for start in range(0, len(job_ids), 400):
            chunk = job_ids[start : start + 400]
            rows = connection.execute(
                _artifact_select()
                .add_columns(ARTIFACTS.c.job_id)
                .where(ARTIFACTS.c.job_id.in_(chunk))
                .order_by(ARTIFACTS.c.id)
            )
            for row in rows:
                fields = row._asdict()
                found[fields.pop("job_id")].append(ArtifactRecord(**fields))
    return found


def paths_of_submit(db: Database, submit_uuid: uuid.UUID) -> list[str]:
    """The staging paths of every artifact the submit's own jobs made (none of reused jobs)."""
    with db.begin() as connection:
        return list(
            connection.execute(
                select(ARTIFACTS.c.path)
                .join(JOBS, JOBS.c.id == ARTIFACTS.c.job_id)
                .join(SUBMITS, SUBMITS.c.id == JOBS.c.submit_id)
                .where(SUBMITS.c.uuid == submit_uuid)
            ).scalars()
        )


def list_artifacts(
    db: Database, *, job_uuid: uuid.UUID | None = None, limit: int | None = None
) -> list[ArtifactRecord]:
    """The newest `limit` artifacts (of one job), oldest first."""
    statement = _artifacts_of(job_uuid).order_by(ARTIFACTS.c.id.desc())
    if limit:
        statement = statement.limit(limit)
    with db.begin() as connection:
        records = [_record(row) for row in connection.execute(statement)]
    records.reverse()
    return records


def count_artifacts(db: Database, *, job_uuid: uuid.UUID | None = None) -> int:
    """How many artifacts (of one job) there are, whatever the limit."""
    matching = _artifacts_of(job_uuid).subquery()
    with db.begin() as connection:
        return int(connection.execute(select(func.count()).select_from(matching)).scalar_one())


def _artifacts_of(job_uuid: uuid.UUID | None) -> Select[tuple[object, ...]]:
    statement = _artifact_select()
    return statement if job_uuid is None else statement.where(JOBS.c.uuid == job_uuid)


def record_rebuild_result(
    db: Database,
    rebuild_submit_uuid: uuid.UUID,
    *,
    package: tuple[str, str],
    path: str,
    original_artifact_id: int | None,
    rebuilt_artifact_id: int | None,
    verdict: RebuildVerdict,
    diff_summary: str | None = None,
) -> RebuildResultRecord:
    with db.begin() as connection:
        submit_id = id_of_uuid(connection, SUBMITS, rebuild_submit_uuid, "submit")
        package_id = get_or_create_id(
            connection, PACKAGES, {"name": package[0], "version": package[1]}
        )
        row_id = connection.execute(
            REBUILD_RESULTS.insert()
            .values(
                rebuild_submit_id=submit_id,
                original_artifact_id=original_artifact_id,
                rebuilt_artifact_id=rebuilt_artifact_id,
                package_id=package_id,
                path=path,
                verdict=verdict,
                diff_summary=diff_summary,
            )
            .returning(REBUILD_RESULTS.c.id)
        ).scalar_one()
    return RebuildResultRecord(
        id=int(row_id),
        rebuild_submit_uuid=rebuild_submit_uuid,
        package_name=package[0],
        package_version=package[1],
        path=path,
        original_artifact_id=original_artifact_id,
        rebuilt_artifact_id=rebuilt_artifact_id,
        verdict=verdict,
        diff_summary=diff_summary,
    )


def rebuild_results(db: Database, rebuild_submit_uuid: uuid.UUID) -> list[RebuildResultRecord]:
    """The verdicts of a rebuild submit, by package, version and path."""
    with db.begin() as connection:
        rows = connection.execute(
            select(
                REBUILD_RESULTS.c.id,
                REBUILD_RESULTS.c.path,
                REBUILD_RESULTS.c.original_artifact_id,
                REBUILD_RESULTS.c.rebuilt_artifact_id,
                REBUILD_RESULTS.c.verdict,
                REBUILD_RESULTS.c.diff_summary,
                PACKAGES.c.name,
                PACKAGES.c.version,
            )
            .join(SUBMITS, SUBMITS.c.id == REBUILD_RESULTS.c.rebuild_submit_id)
            .join(PACKAGES, PACKAGES.c.id == REBUILD_RESULTS.c.package_id)
            .where(SUBMITS.c.uuid == rebuild_submit_uuid)
            .order_by(PACKAGES.c.name, PACKAGES.c.version, REBUILD_RESULTS.c.path)
        )
        return [
            RebuildResultRecord(
                id=row.id,
                rebuild_submit_uuid=rebuild_submit_uuid,
                package_name=row.name,
                package_version=row.version,
                path=row.path,
                original_artifact_id=row.original_artifact_id,
                rebuilt_artifact_id=row.rebuilt_artifact_id,
                verdict=row.verdict,
                diff_summary=row.diff_summary,
            )
            for row in rows
        ]


def submit_outputs(db: Database, submit_uuid: uuid.UUID) -> list[JobOutputRecord]:
    """Every job of a submit with the artifacts it stands for: a reused job's are those of the
    job it reused (followed through reuse chains)."""
    with db.begin() as connection:
        rows = connection.execute(
            select(
                JOBS.c.id,
                JOBS.c.uuid,
                JOBS.c.state,
                JOBS.c.reused_from_job_id,
                PACKAGES.c.name,
                PACKAGES.c.version,
            )
            .join(SUBMITS, SUBMITS.c.id == JOBS.c.submit_id)
            .join(PACKAGES, PACKAGES.c.id == JOBS.c.package_id)
            .where(SUBMITS.c.uuid == submit_uuid)
            .order_by(JOBS.c.id)
        ).all()
        sources = _reuse_sources(connection, {r.id: r.reused_from_job_id for r in rows})
    found = artifacts_of_jobs(db, sorted(set(sources.values())))
    return [
        JobOutputRecord(
            job_uuid=row.uuid,
            package_name=row.name,
            package_version=row.version,
            state=row.state,
            artifacts=tuple(found[sources[row.id]]),
        )
        for row in rows
    ]


def _reuse_sources(connection: Connection, reused_from: dict[int, int | None]) -> dict[int, int]:
    """job id -> the id of the job whose artifacts it stands for."""
    links = dict(reused_from)  # job id -> the job it reused (None: it has its own artifacts)
    sources = {job: job for job in reused_from}
    for _ in range(16):  # reuse points at a job with artifacts: a chain is rare and short
        unknown = sorted({s for s in sources.values() if s not in links})
        if unknown:
            query = select(JOBS.c.id, JOBS.c.reused_from_job_id).where(JOBS.c.id.in_(unknown))
            links.update({row.id: row.reused_from_job_id for row in connection.execute(query)})
        followed = {job: links.get(source) or source for job, source in sources.items()}
        if followed == sources:
            break
        sources = followed
    return sources
