"""Submits and jobs named by a prefix of their UUID, like git's abbreviated hashes.

One resolver for every command that takes a submit or job: a full UUID, or at least
`MIN_PREFIX` hex digits (dashes optional) that only one submit (job) starts with.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Table, select

from butido_py.db.database import Database
from butido_py.db.models import GROUPS, JOBS, PACKAGES, SUBMITS
from butido_py.errors import DatabaseError, UsageError

MIN_PREFIX = 6
#: At most this many candidates are named when a prefix is ambiguous.
MAX_CANDIDATES = 10

_HEX = re.compile(r"[0-9a-f]+")


class Kind(StrEnum):
    SUBMIT = "submit"
    JOB = "job"
    GROUP = "group"
    #: `rerun`/`rebuild` take either: a prefix may match one of both.
    SUBMIT_OR_GROUP = "submit or group"


@dataclass(frozen=True, slots=True)
class Candidate:
    uuid: uuid.UUID
    time: datetime | None
    package: str
    version: str


def parse_reference(text: str) -> uuid.UUID | str | None:
    """A full UUID, a prefix (lower-case hex without dashes), or None: neither."""
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    digits = text.strip().lower().replace("-", "")
    if len(digits) < MIN_PREFIX or len(digits) >= 32 or not _HEX.fullmatch(digits):
        return None
    return digits


def resolve(db: Database, kind: Kind, reference: uuid.UUID | str) -> uuid.UUID:
    """The submit (job) `reference` names. A full UUID is returned as it is (the command says
    when there is no such submit or job) unless it names the other kind; a prefix must match
    exactly one."""
    if isinstance(reference, uuid.UUID):
        if kind is Kind.JOB and not _matching(db, JOBS, reference.hex, 1):
            _refuse_a_submit(db, reference.hex, str(reference))
        return reference
    found = [
        candidate
        for table in _TABLES[kind]
        for candidate in _matching(db, table, reference, MAX_CANDIDATES + 1)
    ]
    if len(found) == 1:
        return found[0].uuid
    if not found:
        if kind is Kind.JOB:
            _refuse_a_submit(db, reference, reference)
        kinds = kind.value.split(" or ")
        listings = " or ".join(f"`butido db {k}s`" for k in kinds)
        raise DatabaseError(
            f"no {kind} starting with {reference} in the database",
            hint=f"list {' and '.join(f'{k}s' for k in kinds)} with {listings}",
        )
    raise ambiguous(kind, reference, found)


def ambiguous(kind: Kind, prefix: str, found: list[Candidate]) -> UsageError:
    more = " (and more)" if len(found) > MAX_CANDIDATES else ""
    lines = [
        f"  {c.uuid}  {c.time:%Y-%m-%d %H:%M}  {c.package} {c.version}" if c.time else f"  {c.uuid}"
        for c in found[:MAX_CANDIDATES]
    ]
    return UsageError(
        f"the prefix {prefix} names several {kind}s{more}",
        hint="give more digits of one of:\n" + "\n".join(lines),
    )


def _refuse_a_submit(db: Database, digits: str, shown: str) -> None:
    submits = _matching(db, SUBMITS, digits, 2)
    if len(submits) == 1:
        raise UsageError(
            f"{shown} is a submit, not a job",
            hint=f"list its jobs with `butido db jobs -S {submits[0].uuid}`",
        )


def _matching(db: Database, table: Table, digits: str, limit: int) -> list[Candidate]:
    """Rows whose UUID starts with `digits`: a range of UUIDs, so the unique index serves it
    on both databases (SQLite stores them as 32 hex digits, PostgreSQL as uuid)."""
    low = uuid.UUID(digits.ljust(32, "0"))
    high = uuid.UUID(digits.ljust(32, "f"))
    if table is GROUPS:
        return _matching_groups(db, low, high, limit)
    time = SUBMITS.c.submit_time if table is SUBMITS else JOBS.c.queued_at
    owner = SUBMITS.c.requested_package_id if table is SUBMITS else JOBS.c.package_id
    statement = (
        select(table.c.uuid, time, PACKAGES.c.name, PACKAGES.c.version)
        .select_from(table)
        .join(PACKAGES, PACKAGES.c.id == owner)
        .where(table.c.uuid >= low, table.c.uuid <= high)
        .order_by(table.c.uuid)
        .limit(limit)
    )
    with db.begin() as connection:
        return [Candidate(*row) for row in connection.execute(statement)]


def _matching_groups(db: Database, low: uuid.UUID, high: uuid.UUID, limit: int) -> list[Candidate]:
    statement = (
        select(GROUPS.c.uuid, GROUPS.c.created_at, GROUPS.c.package_name, GROUPS.c.package_version)
        .where(GROUPS.c.uuid >= low, GROUPS.c.uuid <= high)
        .order_by(GROUPS.c.uuid)
        .limit(limit)
    )
    with db.begin() as connection:
        return [Candidate(*row) for row in connection.execute(statement)]


_TABLES: dict[Kind, tuple[Table, ...]] = {
    Kind.SUBMIT: (SUBMITS,),
    Kind.JOB: (JOBS,),
    Kind.GROUP: (GROUPS,),
    Kind.SUBMIT_OR_GROUP: (SUBMITS, GROUPS),
}
