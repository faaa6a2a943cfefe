"""The queries only the web view (`butido serve`, web/) needs: UUID prefixes and per-page counts.

Everything else the pages show comes from the query functions of the `db` commands.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import func, select

from butido_py.db.database import Database
from butido_py.db.models import GROUPS, JOBS, SUBMITS
from butido_py.states import JobState

UuidKind = Literal["submit", "job", "group"]

_TABLES = {"submit": SUBMITS, "job": JOBS, "group": GROUPS}


def uuids_with_prefix(
    db: Database, kind: UuidKind, low: uuid.UUID, high: uuid.UUID, *, limit: int
) -> list[uuid.UUID]:
    """The submit, job or group UUIDs between `low` and `high` (a prefix padded with 0s and
    fs), at most `limit`. A range, not LIKE: both backends order UUIDs as their hex digits,
    so the unique index answers it on a million rows."""
    table = _TABLES[kind]
    with db.begin() as connection:
        rows = connection.execute(
            select(table.c.uuid)
            .where(table.c.uuid >= low, table.c.uuid <= high)
            .order_by(table.c.uuid)
            .limit(limit)
        )
        return [row.uuid for row in rows]


def job_states_of_submits(
    db: Database, submit_ids: Sequence[int]
) -> dict[int, dict[JobState, int]]:
    """submit id -> how many of its jobs are in each state (through ix_jobs_submit_id)."""
    counts: dict[int, dict[JobState, int]] = {submit_id: {} for submit_id in submit_ids}
    if not submit_ids:
        return counts
    with db.begin() as connection:
        rows = connection.execute(
            select(JOBS.c.submit_id, JOBS.c.state, func.count())
            .where(JOBS.c.submit_id.in_(list(submit_ids)))
            .group_by(JOBS.c.submit_id, JOBS.c.state)
        )
        for submit_id, state, count in rows:
            counts[submit_id][state] = count
    return counts
