"""Groups: one request over several images (a submit per image), and the state derived from them.

A group's state is not stored: it is computed from its submits' states whenever it is read
(`group_state`), so crash recovery (a submit turning `lost`) and a submit canceled on its own
change it without anything to keep consistent (docs/database.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, Row, select, true, update

from butido_py.db.database import Database
from butido_py.db.jobs import jobs_of_submit
from butido_py.db.lookups import id_of_uuid
from butido_py.db.models import GROUPS, SUBMITS
from butido_py.db.records import EnvPairs, JobRecord, SubmitRecord
from butido_py.db.submits import submit_record, submit_select
from butido_py.states import SubmitKind, SubmitState

_PARENT = GROUPS.alias("parent_group")


@dataclass(frozen=True, slots=True)
class PlannedGroup:
    """The request of a group, written before any of its submits."""

    uuid: UUID
    created_at: datetime
    package_name: str
    package_version: str
    #: Full image names, in the order asked (refused images included).
    images: tuple[str, ...]
    commit_hash: str
    env: EnvPairs = ()
    kind: SubmitKind = SubmitKind.BUILD
    parent_group_uuid: UUID | None = None
    triggered_by: str | None = None


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: int
    uuid: UUID
    created_at: datetime
    package_name: str
    package_version: str
    images: tuple[str, ...]
    env: EnvPairs
    commit_hash: str
    kind: SubmitKind
    parent_uuid: UUID | None
    triggered_by: str | None
    #: One per image that got a submit, in the order of `images`.
    submits: tuple[SubmitRecord, ...]

    @property
    def state(self) -> SubmitState:
        return group_state(s.state for s in self.submits)

    def submit_for(self, image: str) -> SubmitRecord | None:
        return next((s for s in self.submits if s.image == image), None)


def group_state(states: Iterable[SubmitState]) -> SubmitState:
    """`running` while any submit runs; else `failed` when any image failed, else `lost`, else
    `canceled`, else `succeeded`. A group with no submit (its process died before recording one)
    is `lost`."""
    found = set(states)
    if not found:
        return SubmitState.LOST
    for state in (SubmitState.RUNNING, SubmitState.FAILED, SubmitState.LOST, SubmitState.CANCELED):
        if state in found:
            return state
    return SubmitState.SUCCEEDED


# --- recording ----------------------------------------------------------------------------------


def record_group(db: Database, group: PlannedGroup) -> None:
    with db.begin() as connection:
        parent_id = None
        if group.parent_group_uuid is not None:
            parent_id = id_of_uuid(connection, GROUPS, group.parent_group_uuid, "group")
        connection.execute(
            GROUPS.insert().values(
                uuid=group.uuid,
                created_at=group.created_at,
                package_name=group.package_name,
                package_version=group.package_version,
                images=json.dumps(list(group.images)),
                env=json.dumps([list(pair) for pair in group.env]),
                commit_hash=group.commit_hash,
                kind=group.kind,
                parent_group_id=parent_id,
                triggered_by=group.triggered_by,
            )
        )


def link_submit(db: Database, group_uuid: UUID, submit_uuid: UUID) -> None:
    """Make the (just recorded) submit one of the group's; the group's `triggered_by` is its
    first submit's."""
    with db.begin() as connection:
        group_id = id_of_uuid(connection, GROUPS, group_uuid, "group")
        connection.execute(
            update(SUBMITS).where(SUBMITS.c.uuid == submit_uuid).values(group_id=group_id)
        )
        who = select(SUBMITS.c.triggered_by).where(SUBMITS.c.uuid == submit_uuid)
        connection.execute(
            update(GROUPS)
            .where(GROUPS.c.id == group_id, GROUPS.c.triggered_by.is_(None))
            .values(triggered_by=who.scalar_subquery())
        )


# --- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupFilter:
    package: str | None = None
    states: tuple[SubmitState, ...] = ()
    kinds: tuple[SubmitKind, ...] = ()
    limit: int | None = None


def find_group(db: Database, group_uuid: UUID) -> GroupRecord | None:
    with db.begin() as connection:
        rows = _group_rows(connection, GROUPS.c.uuid == group_uuid, limit=None)
        groups = _with_submits(connection, rows)
    return groups[0] if groups else None


def group_of_submit(db: Database, submit_uuid: UUID) -> GroupRecord | None:
    """The group the submit belongs to (None for a submit recorded without one)."""
    with db.begin() as connection:
        group_id = connection.execute(
            select(SUBMITS.c.group_id).where(SUBMITS.c.uuid == submit_uuid)
        ).scalar_one_or_none()
        if group_id is None:
            return None
        groups = _with_submits(connection, _group_rows(connection, GROUPS.c.id == group_id))
    return groups[0] if groups else None


def list_groups(db: Database, query: GroupFilter) -> list[GroupRecord]:
    """Newest last, at most `query.limit` (after the state filter: states are derived)."""
    condition: ColumnElement[bool] = true()
    if query.package is not None:
        condition = condition & (GROUPS.c.package_name == query.package)
    if query.kinds:
        condition = condition & GROUPS.c.kind.in_(list(query.kinds))
    sql_limit = None if query.states else query.limit
    with db.begin() as connection:
        groups = _with_submits(connection, _group_rows(connection, condition, limit=sql_limit))
    if query.states:
        groups = [g for g in groups if g.state in query.states]
    if query.limit is not None:
        groups = groups[: query.limit]
    return list(reversed(groups))


def _group_rows(
    connection: Connection, condition: ColumnElement[bool], *, limit: int | None = None
) -> Sequence[Row[tuple[object, ...]]]:
    """Newest first."""
    statement = (
        select(GROUPS, _PARENT.c.uuid.label("parent_uuid"))
        .outerjoin(_PARENT, _PARENT.c.id == GROUPS.c.parent_group_id)
        .where(condition)
        .order_by(GROUPS.c.created_at.desc(), GROUPS.c.id.desc())
    )
    if limit is not None:
        statement = statement.limit(limit)
    return connection.execute(statement).all()


def _with_submits(
    connection: Connection, rows: Sequence[Row[tuple[object, ...]]]
) -> list[GroupRecord]:
    ids = [row._mapping[GROUPS.c.id] for row in rows]
    submits: dict[int, list[SubmitRecord]] = {}
    for start in range(0, len(ids), 500):  # bounded IN lists
        chunk = ids[start : start + 500]
        statement = submit_select().where(SUBMITS.c.group_id.in_(chunk)).order_by(SUBMITS.c.id)
        for row in connection.execute(statement):
            submits.setdefault(row._mapping[SUBMITS.c.group_id], []).append(submit_record(row))
    return [_group_record(row, submits.get(row._mapping[GROUPS.c.id], [])) for row in rows]


def _group_record(row: Row[tuple[object, ...]], submits: Sequence[SubmitRecord]) -> GroupRecord:
    m = row._mapping
    images = tuple(json.loads(m[GROUPS.c.images]))
    order = {image: index for index, image in enumerate(images)}
    return GroupRecord(
        id=m[GROUPS.c.id],
        uuid=m[GROUPS.c.uuid],
        created_at=m[GROUPS.c.created_at],
        package_name=m[GROUPS.c.package_name],
        package_version=m[GROUPS.c.package_version],
        images=images,
        env=tuple((name, value) for name, value in json.loads(m[GROUPS.c.env])),
        commit_hash=m[GROUPS.c.commit_hash],
        kind=m[GROUPS.c.kind],
        parent_uuid=m["parent_uuid"],
        triggered_by=m[GROUPS.c.triggered_by],
        submits=tuple(sorted(submits, key=lambda s: (order.get(s.image, len(order)), s.id))),
    )


# --- the side-by-side view ----------------------------------------------------------------------


def jobs_of_group(db: Database, group: GroupRecord) -> dict[UUID, list[JobRecord]]:
    """submit UUID -> its jobs, for each of the group's submits."""
    return {submit.uuid: jobs_of_submit(db, submit.id)[0] for submit in group.submits}


@dataclass(frozen=True, slots=True)
class GroupMatrix:
    """One row per package (name, version), in the order the submits list their jobs; one
    column per image of the group's request (`db group`, the web view's group page)."""

    images: tuple[str, ...]
    packages: tuple[tuple[str, str], ...]
    #: (name, version, image) -> the job of that package in that image's submit.
    cells: Mapping[tuple[str, str, str], JobRecord]
    #: The images that got no submit (refused).
    refused: frozenset[str]

    def cell(self, package: tuple[str, str], image: str) -> JobRecord | None:
        return self.cells.get((*package, image))


def group_matrix(group: GroupRecord, jobs: Mapping[UUID, Sequence[JobRecord]]) -> GroupMatrix:
    packages: dict[tuple[str, str], None] = {}
    cells: dict[tuple[str, str, str], JobRecord] = {}
    for submit in group.submits:
        for job in jobs.get(submit.uuid, ()):
            packages.setdefault((job.package_name, job.package_version), None)
            cells[(job.package_name, job.package_version, submit.image)] = job
    with_submit = {submit.image for submit in group.submits}
    refused = frozenset(image for image in group.images if image not in with_submit)
    return GroupMatrix(group.images, tuple(packages), cells, refused)
