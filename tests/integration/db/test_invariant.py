"""The submit/job invariant (db/invariant.py) on SQLite and PostgreSQL: finishing a submit derives
its state from its jobs, and crash recovery repairs the contradictions older versions left."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import update

from butido_py.app.recovery import repair_contradictions
from butido_py.db import jobs as db_jobs
from butido_py.db import submits as db_submits
from butido_py.db.database import Database
from butido_py.db.invariant import find_contradictions, settle_submit
from butido_py.db.models import SUBMITS
from butido_py.db.records import PlannedJob, PlannedSubmit
from butido_py.states import JobState, SubmitState

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def _plan(db: Database, n: int, jobs: int) -> PlannedSubmit:
    submit = PlannedSubmit(
        uuid=_uuid(n, 0), submit_time=NOW, image="img", package_name="p", package_version="1",
        commit_hash="c" * 40, env=(),
    )  # fmt: skip
    planned = [
        PlannedJob(
            uuid=_uuid(n, j),
            package_name=f"p{j}",
            package_version="1",
            image="img",
            script_text="#!/bin/sh",
            env=(),
            depends_on=(),
        )
        for j in range(1, jobs + 1)
    ]
    db_submits.record_plan(db, submit, planned)
    return submit


def _uuid(n: int, j: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:06d}{j:06d}")


def _states(db: Database, n: int) -> list[JobState]:
    record = db_submits.find_submit(db, _uuid(n, 0))
    assert record is not None
    jobs, _ = db_jobs.jobs_of_submit(db, record.id)
    return sorted(job.state for job in jobs)


def test_a_submit_with_a_lost_record_is_never_succeeded(db: Database) -> None:
    _plan(db, 1, 2)
    db_jobs.mark_queued(db, _uuid(1, 1), at=NOW)
    db_jobs.mark_running(db, _uuid(1, 1), endpoint="e", at=NOW)
    db_jobs.mark_queued(db, _uuid(1, 2), at=NOW)
    db_jobs.mark_running(db, _uuid(1, 2), endpoint="e", at=NOW)
    db_jobs.mark_succeeded(db, _uuid(1, 2), at=NOW)
    settled = settle_submit(db, _uuid(1, 0), SubmitState.SUCCEEDED, at=NOW)
    assert settled.state is SubmitState.FAILED
    assert settled.jobs_failed == 1
    assert _states(db, 1) == sorted([JobState.FAILED, JobState.SUCCEEDED])
    assert find_contradictions(db) == []


def test_a_succeeded_submit_with_succeeded_jobs_stays_succeeded(db: Database) -> None:
    _plan(db, 2, 1)
    db_jobs.mark_queued(db, _uuid(2, 1), at=NOW)
    db_jobs.mark_running(db, _uuid(2, 1), endpoint="e", at=NOW)
    db_jobs.mark_succeeded(db, _uuid(2, 1), at=NOW)
    assert settle_submit(db, _uuid(2, 0), SubmitState.SUCCEEDED, at=NOW).state is (
        SubmitState.SUCCEEDED
    )


def test_recovery_repairs_a_succeeded_submit_with_unfinished_jobs(db: Database) -> None:
    _plan(db, 3, 3)  # as older versions left it: planned jobs inside a "succeeded" submit
    db_jobs.mark_queued(db, _uuid(3, 1), at=NOW)
    with db.begin() as connection:
        connection.execute(
            update(SUBMITS).where(SUBMITS.c.uuid == _uuid(3, 0)).values(state="succeeded")
        )
    found = find_contradictions(db)
    assert [c.uuid for c in found] == [_uuid(3, 0)]
    warnings: list[str] = []
    repaired = repair_contradictions(db, warn=warnings.append, now=NOW)
    assert len(repaired) == 1
    assert repaired[0].now is SubmitState.FAILED
    assert repaired[0].jobs_closed == 3
    assert _states(db, 3) == [JobState.LOST] * 3
    assert len(warnings) == 1
    assert "repaired" in warnings[0]
    assert find_contradictions(db) == []
    assert repair_contradictions(db, warn=warnings.append, now=NOW) == []
