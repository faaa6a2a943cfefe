"""Failover and crash-recovery records on SQLite and PostgreSQL: attempts, retries, endpoint
health and quarantine, lost submits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from butido_py.db import jobs, logs, submits
from butido_py.db.attempts import attempts_of_job, finish_attempt, start_attempt
from butido_py.db.database import Database
from butido_py.db.endpoints import (
    UnavailableEndpoints,
    disabled_endpoint_names,
    record_endpoint_failure,
    record_endpoint_success,
    set_endpoint_disabled,
)
from butido_py.db.records import PlannedSubmit
from butido_py.states import FailureKind, JobState, SubmitState, TransitionError
from tests.helpers.seed import IMAGE, _job, jid, sid

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


def plan(db: Database, n: int = 1, *, host: str | None = "h1", pid: int | None = 4242) -> int:
    record = submits.record_plan(
        db,
        PlannedSubmit(
            uuid=sid(n), submit_time=T0, image=IMAGE, package_name="app", package_version="1.0",
            commit_hash="a" * 40, orchestrator_host=host, orchestrator_pid=pid,
        ),
        [_job(10 * n + 1, "app", "1.0", (10 * n + 2,)), _job(10 * n + 2, "lib", "2.0"),
         _job(10 * n + 3, "tool", "0.3")],
    )  # fmt: skip
    return record.submit.id


def test_attempts_and_a_retry_back_to_queued(db: Database) -> None:
    plan(db)
    job = jid(12)
    jobs.mark_queued(db, job, at=T0)
    start_attempt(db, job, attempt=1, endpoint="ep2", at=T0)
    jobs.mark_running(db, job, endpoint="ep2", at=T0, container_hash="c1" * 32)
    logs.append_chunk(db, job, b"half a log")
    finish_attempt(
        db, job, attempt=1, at=T0 + timedelta(seconds=5), container_hash="c1" * 32,
        failure_kind=FailureKind.INFRA, error="engine gone",
    )  # fmt: skip
    jobs.mark_retried(db, job, attempt=2, at=T0 + timedelta(seconds=5))
    retried = jobs.find_job_detail(db, job)
    assert retried is not None
    assert retried.job.state is JobState.QUEUED
    assert retried.job.attempt == 2
    assert (retried.job.endpoint, retried.job.container_hash) == (None,) * 2
    assert logs.read_log_bytes(db, job) == b""  # the new attempt's log is empty so far
    assert logs.read_log_bytes(db, job, attempt=1) == b"half a log"  # the first one is kept
    start_attempt(db, job, attempt=2, endpoint="ep1", at=T0 + timedelta(seconds=6))
    jobs.mark_running(db, job, endpoint="ep1", at=T0 + timedelta(seconds=6))
    finish_attempt(db, job, attempt=2, at=T0 + timedelta(seconds=9), container_hash="c2" * 32)
    jobs.mark_succeeded(db, job, at=T0 + timedelta(seconds=9))
    found = attempts_of_job(db, job)
    assert [(a.attempt, a.endpoint, a.failure_kind, a.error) for a in found] == [
        (1, "ep2", FailureKind.INFRA, "engine gone"),
        (2, "ep1", None, None),
    ]
    assert found[0].container_hash == "c1" * 32
    assert found[1].finished_at == T0 + timedelta(seconds=9)
    assert attempts_of_job(db, jid(13)) == []


def test_a_job_is_retried_from_queued_but_never_once_finished(db: Database) -> None:
    plan(db)
    jobs.mark_queued(db, jid(13), at=T0)  # its container was never created
    jobs.mark_retried(db, jid(13), attempt=2, at=T0)
    record = jobs.find_job(db, jid(13))
    assert record is not None
    assert (record.state, record.attempt) == (JobState.QUEUED, 2)
    jobs.mark_running(db, jid(13), endpoint="ep1", at=T0)
    jobs.mark_succeeded(db, jid(13), at=T0)
    with pytest.raises(TransitionError, match="cannot be retried from succeeded"):
        jobs.mark_retried(db, jid(13), attempt=3, at=T0)
    with pytest.raises(TransitionError, match="cannot be retried from planned"):
        jobs.mark_retried(db, jid(12), attempt=2, at=T0)


def test_endpoint_failures_quarantine_with_a_doubling_back_off(db: Database) -> None:
    first = record_endpoint_failure(db, "ep2", at=T0, quarantine_after=2, quarantine_seconds=300)
    assert (first.consecutive_failures, first.quarantined_until) == (1, None)
    assert disabled_endpoint_names(db, now=T0) == frozenset()
    second = record_endpoint_failure(db, "ep2", at=T0, quarantine_after=2, quarantine_seconds=300)
    assert second.quarantined_until == T0 + timedelta(seconds=300)
    third = record_endpoint_failure(db, "ep2", at=T0, quarantine_after=2, quarantine_seconds=300)
    assert (third.consecutive_failures, third.quarantined_until) == (
        3,
        T0 + timedelta(seconds=600),
    )
    assert list(disabled_endpoint_names(db, now=T0).quarantined) == ["ep2"]
    assert disabled_endpoint_names(db, now=T0 + timedelta(seconds=601)).quarantined == {}
    set_endpoint_disabled(db, "ep1", disabled=True)
    off = disabled_endpoint_names(db, now=T0)
    assert isinstance(off, UnavailableEndpoints)
    assert off == frozenset({"ep1", "ep2"})
    assert list(off.quarantined) == ["ep2"]
    # Expired: only the disabled one is left.
    assert disabled_endpoint_names(db, now=T0 + timedelta(hours=1)) == frozenset({"ep1"})
    # A success resets the count but not a running quarantine; enable lifts it.
    record_endpoint_success(db, "ep2")
    (ep2,) = disabled_endpoint_names(db, now=T0).quarantined.values()
    assert ep2.consecutive_failures == 0
    set_endpoint_disabled(db, "ep2", disabled=False)
    assert disabled_endpoint_names(db, now=T0).quarantined == {}


def test_a_lost_submit_is_claimed_once(db: Database) -> None:
    submit_id = plan(db)
    jobs.mark_queued(db, jid(12), at=T0)
    start_attempt(db, jid(12), attempt=1, endpoint="ep1", at=T0)
    jobs.mark_running(db, jid(12), endpoint="ep1", at=T0)
    jobs.mark_queued(db, jid(13), at=T0)
    jobs.mark_running(db, jid(13), endpoint="ep1", at=T0)
    jobs.mark_succeeded(db, jid(13), at=T0)
    (running,) = submits.running_submits(db)
    assert (running.uuid, running.orchestrator_host, running.orchestrator_pid) == (
        sid(1),
        "h1",
        4242,
    )
    assert running.heartbeat_at == T0
    later = T0 + timedelta(hours=1)
    # A heartbeat newer than the one seen: the orchestrator is alive after all.
    submits.record_heartbeat(db, sid(1), at=T0 + timedelta(seconds=30))
    assert jobs.mark_submit_lost(db, submit_id, at=later, heartbeat_at=T0) is None
    beat = T0 + timedelta(seconds=30)
    assert jobs.mark_submit_lost(db, submit_id, at=later, heartbeat_at=beat) == 2
    assert jobs.mark_submit_lost(db, submit_id, at=later, heartbeat_at=beat) is None
    record = submits.find_submit(db, sid(1))
    assert record is not None
    assert (record.state, record.finished_at) == (SubmitState.LOST, later)
    states = {j.uuid: (j.state, j.failure_kind) for j in jobs.jobs_of_submit(db, submit_id)[0]}
    assert states == {
        jid(11): (JobState.LOST, FailureKind.LOST),
        jid(12): (JobState.LOST, FailureKind.LOST),
        jid(13): (JobState.SUCCEEDED, None),
    }
    (attempt,) = attempts_of_job(db, jid(12))
    assert (attempt.failure_kind, attempt.finished_at) == (FailureKind.LOST, later)
    assert submits.running_submits(db) == []
