"""Writes made again after a commit whose acknowledgement was lost, on SQLite and PostgreSQL.

When the connection breaks after the server committed but before the client heard so, the retry
policy (db/retry.py) makes the write again. Each write of a build must then change nothing: the
db functions that are idempotent by themselves are called twice; the recorder's writes are run
with the db function committing and then raising the error a lost connection raises, once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from butido_py.db import artifacts as db_artifacts
from butido_py.db import coalescing, invariant, jobs, submits
from butido_py.db.attempts import attempts_of_job, finish_attempt, start_attempt
from butido_py.db.database import Database
from butido_py.db.records import ArtifactInput, PlannedSubmit
from butido_py.db.retry import DatabaseUnavailableError
from butido_py.errors import DatabaseError
from butido_py.orchestrator.model import Artifact
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.states import FailureKind, JobState, SubmitState
from tests.helpers.seed import IMAGE, _job, jid, sid

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
KEY = "f" * 64


def plan(db: Database, n: int = 1) -> None:
    """Submit `n`: app (job 10n+1) needs lib (10n+2)."""
    submits.record_plan(
        db,
        PlannedSubmit(
            uuid=sid(n), submit_time=T0, image=IMAGE, package_name="app", package_version="1.0",
            commit_hash="a" * 40, orchestrator_host="h1", orchestrator_pid=4242,
        ),
        [_job(10 * n + 1, "app", "1.0", (10 * n + 2,)), _job(10 * n + 2, "lib", "2.0")],
    )  # fmt: skip


def state_of(db: Database, n: int) -> tuple[JobState, datetime | None]:
    found = jobs.find_job(db, jid(n))
    assert found is not None
    return found.state, found.queued_at


# --- db functions made twice ---------------------------------------------------------------


def test_a_claim_made_again_leaves_the_job_queued(db: Database) -> None:
    plan(db)
    assert coalescing.claim_job_key(db, jid(12), KEY, "{}", at=T0) is None
    assert state_of(db, 12) == (JobState.QUEUED, T0)
    again = coalescing.claim_job_key(db, jid(12), KEY, "{}", at=T0 + timedelta(seconds=3))
    assert again is None
    assert state_of(db, 12) == (JobState.QUEUED, T0)  # not queued twice


def test_a_claim_made_again_never_names_a_job_that_shares_the_key_since(db: Database) -> None:
    """Between the lost acknowledgement and the retry another submit's job with the key
    succeeded: this job is queued (it runs); the replay must not send it to wait for that one."""
    plan(db, 1)
    plan(db, 2)
    assert coalescing.claim_job_key(db, jid(12), KEY, None, at=T0) is None
    jobs.set_job_key(db, jid(22), KEY)
    jobs.mark_queued(db, jid(22), at=T0)
    jobs.mark_running(db, jid(22), endpoint="ep1", at=T0)
    jobs.mark_succeeded(db, jid(22), at=T0, exit_code=0)
    assert coalescing.claim_job_key(db, jid(12), KEY, None, at=T0) is None
    assert state_of(db, 12) == (JobState.QUEUED, T0)


def test_a_planned_job_is_still_told_about_a_job_that_shares_its_key(db: Database) -> None:
    plan(db, 1)
    plan(db, 2)
    assert coalescing.claim_job_key(db, jid(12), KEY, None, at=T0) is None
    shared = coalescing.claim_job_key(db, jid(22), KEY, None, at=T0)
    assert shared is not None
    assert shared.uuid == jid(12)
    assert state_of(db, 22) == (JobState.PLANNED, None)


def test_an_attempt_started_or_finished_again_is_one_row(db: Database) -> None:
    plan(db)
    job = jid(12)
    jobs.mark_queued(db, job, at=T0)
    for _ in range(2):
        start_attempt(db, job, attempt=1, endpoint="ep1", at=T0)
    later = T0 + timedelta(seconds=5)
    for _ in range(2):
        finish_attempt(
            db, job, attempt=1, at=later, container_hash="c" * 64,
            failure_kind=FailureKind.INFRA, error="engine gone",
        )  # fmt: skip
    found = attempts_of_job(db, job)
    assert [(a.attempt, a.endpoint, a.finished_at, a.failure_kind) for a in found] == [
        (1, "ep1", later, FailureKind.INFRA)
    ]
    with pytest.raises(DatabaseError, match=r"attempt 1 of job .* another endpoint"):
        start_attempt(db, job, attempt=1, endpoint="ep2", at=T0)


# --- the recorder's writes, with a lost acknowledgement ---------------------------------------


def ack_lost(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str
) -> list[Callable[..., Any]]:
    """`module.name` commits, then (the first time only) raises what a connection lost before
    the acknowledgement raises. Returns the list of calls made."""
    real = getattr(module, name)
    calls: list[Callable[..., Any]] = []

    def write(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        calls.append(real)
        if len(calls) == 1:
            raise DatabaseUnavailableError("server closed the connection unexpectedly")
        return result

    monkeypatch.setattr(module, name, write)
    return calls


@pytest.fixture
def recorder(db: Database) -> BuildRecorder:
    """A recorder without its writer thread (each write is made at once); no waiting between
    tries."""
    db.retry.sleep = lambda _seconds: None
    return BuildRecorder(db)


def test_transitions_and_artifacts_made_again_are_recorded_once(
    db: Database, recorder: BuildRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan(db)
    made = [ArtifactInput("lib-2.0.tar", hashlib.sha256(b"lib").hexdigest(), 3)]
    lost = [
        ack_lost(monkeypatch, jobs, name)
        for name in ("mark_queued", "mark_running", "mark_succeeded")
    ]
    lost.append(ack_lost(monkeypatch, db_artifacts, "record_artifacts"))
    recorder.queued(jid(12))
    recorder.running(jid(12), endpoint="ep1", container=None, image_digest=None)
    recorder.succeeded(jid(12), exit_code=0, artifacts=made)
    assert recorder.errors == []
    assert [len(calls) for calls in lost] == [1, 1, 1, 1]  # recognised, not made again
    assert state_of(db, 12)[0] is JobState.SUCCEEDED
    assert [a.path for a in db_artifacts.input_artifacts(db, jid(12))] == []
    recorded = jobs.find_job(db, jid(12))
    assert recorded is not None
    rows = db_artifacts.artifacts_of_jobs(db, [recorded.id])[recorded.id]
    assert [a.path for a in rows] == ["lib-2.0.tar"]


def test_inputs_made_again_are_recorded_once(
    db: Database, recorder: BuildRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan(db)
    sha = hashlib.sha256(b"lib").hexdigest()
    for step in (jobs.mark_queued, jobs.mark_running):
        kwargs: dict[str, Any] = {"endpoint": "ep1"} if step is jobs.mark_running else {}
        step(db, jid(12), at=T0, **kwargs)
    recorder.succeeded(jid(12), exit_code=0, artifacts=[ArtifactInput("lib.tar", sha, 3)])
    calls = ack_lost(monkeypatch, db_artifacts, "record_job_inputs")
    artifact = Artifact(id=None, path="lib.tar", file=Path("lib.tar"), sha256=sha, made_by=jid(12))
    recorder.inputs(jid(11), [artifact])
    assert recorder.errors == []
    assert len(calls) == 1
    assert [a.path for a in db_artifacts.input_artifacts(db, jid(11))] == ["lib.tar"]


def test_a_submit_settled_again_keeps_its_state(
    db: Database, recorder: BuildRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan(db)
    for n in (11, 12):
        jobs.mark_queued(db, jid(n), at=T0)
        jobs.mark_running(db, jid(n), endpoint="ep1", at=T0)
        jobs.mark_succeeded(db, jid(n), at=T0, exit_code=0)
    calls = ack_lost(monkeypatch, invariant, "settle_submit")
    settled = recorder.finish_submit(sid(1), SubmitState.SUCCEEDED)
    assert settled.state is SubmitState.SUCCEEDED
    assert len(calls) == 1
    found = submits.find_submit(db, sid(1))
    assert found is not None
    assert found.state == SubmitState.SUCCEEDED
