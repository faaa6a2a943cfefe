"""Row counts for `butido metrics`: every table, and the jobs by state."""

from __future__ import annotations

from sqlalchemy import func, select

from butido_py.db.database import Database
from butido_py.db.models import JOBS, METADATA
from butido_py.states import JobState


def count_rows(db: Database) -> dict[str, int]:
    """table name -> number of rows, for every table of the schema, by name."""
    tables = sorted(METADATA.tables.values(), key=lambda table: table.name)
    with db.begin() as connection:
        return {
            table.name: int(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in tables
        }


def count_jobs_by_state(db: Database) -> dict[JobState, int]:
    """Every job state (also those no job is in) -> number of jobs, in the enum's order."""
    with db.begin() as connection:
        rows = connection.execute(select(JOBS.c.state, func.count()).group_by(JOBS.c.state))
        found = {JobState(state): int(count) for state, count in rows}
    return {state: found.get(state, 0) for state in JobState}
