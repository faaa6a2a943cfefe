"""Releases: artifacts copied into a release store, the artifacts `release new` may copy, the
releases `release rm` removes, and the `db releases` listing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, delete, func, select

from butido_py.db.database import Database
from butido_py.db.lookups import get_or_create_id
from butido_py.db.models import ARTIFACTS, JOBS, PACKAGES, RELEASE_STORES, RELEASES, SUBMITS
from butido_py.db.records import ReleaseCandidateRecord, ReleaseRecord
from butido_py.errors import DatabaseError


def _release_select() -> Select[tuple[object, ...]]:
    return (
        select(
            RELEASES.c.id,
            RELEASES.c.artifact_id,
            ARTIFACTS.c.path.label("artifact_path"),
            RELEASE_STORES.c.store_name.label("store"),
            RELEASES.c.release_date,
            PACKAGES.c.name.label("package_name"),
            PACKAGES.c.version.label("package_version"),
            SUBMITS.c.uuid.label("submit_uuid"),
            JOBS.c.uuid.label("job_uuid"),
            ARTIFACTS.c.sha256,
        )
        .join(ARTIFACTS, ARTIFACTS.c.id == RELEASES.c.artifact_id)
        .join(RELEASE_STORES, RELEASE_STORES.c.id == RELEASES.c.release_store_id)
        .join(JOBS, JOBS.c.id == ARTIFACTS.c.job_id)
        .join(SUBMITS, SUBMITS.c.id == JOBS.c.submit_id)
        .join(PACKAGES, PACKAGES.c.id == JOBS.c.package_id)
    )


def _record(row: Row[tuple[object, ...]]) -> ReleaseRecord:
    return ReleaseRecord(**row._asdict())


def record_release(db: Database, artifact_id: int, store: str, *, at: datetime) -> ReleaseRecord:
    with db.begin() as connection:
        if connection.execute(select(ARTIFACTS.c.id).where(ARTIFACTS.c.id == artifact_id)).scalar():
            store_id = get_or_create_id(connection, RELEASE_STORES, {"store_name": store})
        else:
            raise DatabaseError(f"artifact {artifact_id} does not exist")
        row_id = connection.execute(
            RELEASES.insert()
            .values(artifact_id=artifact_id, release_date=at, release_store_id=store_id)
            .returning(RELEASES.c.id)
        ).scalar_one()
        return _record(connection.execute(_release_select().where(RELEASES.c.id == row_id)).one())


@dataclass(frozen=True, slots=True)
class ReleaseFilter:
    older_than: datetime | None = None
    newer_than: datetime | None = None
    store: str | None = None
    package: str | None = None
    limit: int | None = None  # None or 0: all


def list_releases(db: Database, query: ReleaseFilter) -> list[ReleaseRecord]:
    """The newest `limit` releases that match, newest first (as butido)."""
    statement = _releases_matching(query)
    statement = statement.order_by(RELEASES.c.release_date.desc(), RELEASES.c.id.desc())
    if query.limit:
        statement = statement.limit(query.limit)
    with db.begin() as connection:
        return [_record(row) for row in connection.execute(statement)]


def count_releases(db: Database, query: ReleaseFilter) -> int:
    """How many releases match, whatever the limit."""
    matching = _releases_matching(query).subquery()
    with db.begin() as connection:
        return int(connection.execute(select(func.count()).select_from(matching)).scalar_one())


def _releases_matching(query: ReleaseFilter) -> Select[tuple[object, ...]]:
    statement = _release_select()
    if query.older_than is not None:
        statement = statement.where(RELEASES.c.release_date < query.older_than)
    if query.newer_than is not None:
        statement = statement.where(RELEASES.c.release_date > query.newer_than)
    if query.store is not None:
        statement = statement.where(RELEASE_STORES.c.store_name == query.store)
    if query.package is not None:
        statement = statement.where(PACKAGES.c.name == query.package)
    return statement


def release_candidates(
    db: Database,
    submit_uuid: uuid.UUID,
    store: str,
    *,
    package: str | None = None,
    version: str | None = None,
) -> list[ReleaseCandidateRecord]:
    """The artifacts of the submit's jobs, of exactly `package` and `version` when given (butido
    matched with SQL LIKE), each with its newest release into `store`; in artifact id order."""
    newest_release = (
        select(func.max(RELEASES.c.release_date))
        .join(RELEASE_STORES, RELEASE_STORES.c.id == RELEASES.c.release_store_id)
        .where(RELEASES.c.artifact_id == ARTIFACTS.c.id, RELEASE_STORES.c.store_name == store)
        .scalar_subquery()
    )
    statement = (
        select(
            ARTIFACTS.c.id.label("artifact_id"),
            ARTIFACTS.c.path,
            ARTIFACTS.c.sha256,
            ARTIFACTS.c.size,
            JOBS.c.uuid.label("job_uuid"),
            PACKAGES.c.name.label("package_name"),
            PACKAGES.c.version.label("package_version"),
            newest_release.label("released_at"),
        )
        .join(JOBS, JOBS.c.id == ARTIFACTS.c.job_id)
        .join(SUBMITS, SUBMITS.c.id == JOBS.c.submit_id)
        .join(PACKAGES, PACKAGES.c.id == JOBS.c.package_id)
        .where(SUBMITS.c.uuid == submit_uuid)
        .order_by(ARTIFACTS.c.id)
    )
    if package is not None:
        statement = statement.where(PACKAGES.c.name == package)
    if version is not None:
        statement = statement.where(PACKAGES.c.version == version)
    with db.begin() as connection:
        return [ReleaseCandidateRecord(**row._asdict()) for row in connection.execute(statement)]


def releases_of_package(db: Database, store: str, name: str, version: str) -> list[ReleaseRecord]:
    """Every release into `store` of an artifact of exactly (name, version), newest first."""
    statement = (
        _release_select()
        .where(
            RELEASE_STORES.c.store_name == store,
            PACKAGES.c.name == name,
            PACKAGES.c.version == version,
        )
        .order_by(RELEASES.c.release_date.desc(), RELEASES.c.id.desc())
    )
    with db.begin() as connection:
        return [_record(row) for row in connection.execute(statement)]


def delete_releases(db: Database, release_ids: Sequence[int]) -> int:
    """Remove release rows (the artifact rows stay); returns how many there were."""
    if not release_ids:
        return 0
    with db.begin() as connection:
        done = connection.execute(delete(RELEASES).where(RELEASES.c.id.in_(sorted(release_ids))))
        return int(done.rowcount)
