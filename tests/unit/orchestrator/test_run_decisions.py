"""The run loop's decisions, through a fake scheduler (no Docker) and a real SQLite database:
failover to another endpoint, quarantine, cancel, dep_failed and reuse."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from butido_py.db import jobs as db_jobs
from butido_py.db import submits as db_submits
from butido_py.db.attempts import attempts_of_job
from butido_py.db.database import Database
from butido_py.db.endpoints import list_endpoints
from butido_py.orchestrator.container_run import ContainerOutcome
from butido_py.orchestrator.model import BuildResult, BuildSettings, JobEvent, JobEventKind
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.orchestrator.run import NO_ENDPOINT, BuildRun
from butido_py.orchestrator.scheduling import Placement
from butido_py.states import FailureKind, JobState, SubmitState
from tests.unit.orchestrator.fakes import (
    Behaviour,
    Events,
    FakeScheduler,
    endpoint,
    engine_failure,
    plan,
    script_failure,
)

CHAIN = {"leaf1": [], "leaf2": ["leaf1"], "leaf3": ["leaf2"]}


def build(
    database: Database,
    tmp_path: Path,
    graph: Mapping[str, Sequence[str]],
    scheduler: FakeScheduler,
    settings: BuildSettings | None = None,
    listener: Events | None = None,
) -> tuple[BuildRun, BuildResult]:
    prepared = plan(tmp_path / "staging", graph, scheduler.endpoints, settings)
    run = BuildRun(prepared, BuildRecorder(database), listener or Events(), scheduler=scheduler)
    return run, run.run()


def states(result: BuildResult) -> dict[str, str]:
    return {job.package: job.state for job in result.jobs}


def recorded(database: Database, result: BuildResult) -> dict[str, JobState]:
    jobs = db_jobs.list_jobs(database, db_jobs.JobFilter(submit_uuid=result.submit_uuid))
    return {job.package_name: job.state for job in jobs}


def test_an_endpoint_failure_is_retried_on_another_endpoint(
    database: Database, tmp_path: Path
) -> None:
    fake = FakeScheduler(
        [endpoint("a"), endpoint("b")],
        behaviour={"leaf1": _broken_on("a")},
    )
    listener = Events()
    _, result = build(database, tmp_path, {"leaf1": []}, fake, listener=listener)
    assert result.state == SubmitState.SUCCEEDED
    assert fake.runs == [("leaf1", "a"), ("leaf1", "b")]
    (job,) = result.jobs
    assert (job.state, job.endpoint) == (JobState.SUCCEEDED, "b")
    first, second = attempts_of_job(database, job.uuid)
    assert (first.endpoint, first.failure_kind) == ("a", FailureKind.INFRA)
    assert "endpoint a failed" in (first.error or "")
    assert (second.endpoint, second.failure_kind) == ("b", None)
    retry = [e for e in listener.events if e.kind is JobEventKind.RETRY]
    assert [(e.endpoint, (e.detail or "")[:14]) for e in retry] == [("a", "attempt 2 of 3")]
    health = {e.name: e.consecutive_failures for e in list_endpoints(database)}
    assert health == {"a": 1, "b": 0}


def test_a_script_failure_is_not_retried(database: Database, tmp_path: Path) -> None:
    fake = FakeScheduler([endpoint("a"), endpoint("b")], behaviour={"leaf1": script_failure})
    _, result = build(database, tmp_path, {"leaf1": []}, fake)
    assert fake.runs == [("leaf1", "a")]
    (job,) = result.jobs
    assert (job.state, job.error) == (JobState.FAILED, "the script exited with code 1")
    record = db_jobs.find_job(database, job.uuid)
    assert record is not None
    assert (record.state, record.failure_kind) == (JobState.FAILED, FailureKind.SCRIPT)


def test_an_endpoint_is_quarantined_after_consecutive_failures(
    database: Database, tmp_path: Path
) -> None:
    broken = {name: _broken_on("a") for name in CHAIN}
    fake = FakeScheduler([endpoint("a"), endpoint("b")], behaviour=broken)
    settings = BuildSettings(quarantine_after=2, job_attempts=3)
    _, result = build(database, tmp_path, CHAIN, fake, settings)
    assert result.state == SubmitState.SUCCEEDED
    # a's second failure quarantines it: the third job goes to b at once.
    assert fake.runs == [
        ("leaf1", "a"),
        ("leaf1", "b"),
        ("leaf2", "a"),
        ("leaf2", "b"),
        ("leaf3", "b"),
    ]
    assert fake.taken_out == ["a"]
    health = {e.name: e for e in list_endpoints(database)}
    assert health["a"].consecutive_failures == 2
    until = health["a"].quarantined_until
    assert until is not None
    assert until > datetime.now(UTC)
    assert health["b"].consecutive_failures == 0


def test_jobs_failing_together_on_a_dying_endpoint_count_as_one_failure(
    database: Database, tmp_path: Path
) -> None:
    # a holds two jobs, b one; all three are placed before any ends, then a dies under both.
    together = threading.Barrier(3, timeout=30)
    first_three = threading.Semaphore(3)

    def dying_a(where: Placement, container: str) -> ContainerOutcome | None:
        if first_three.acquire(blocking=False):  # the first attempts; retries go on at once
            together.wait()
        return engine_failure(where, container) if where.endpoint == "a" else None

    graph: dict[str, list[str]] = {"leaf1": [], "leaf2": [], "leaf3": []}
    fake = FakeScheduler(
        [endpoint("a", maxjobs=2), endpoint("b")], behaviour=dict.fromkeys(graph, dying_a)
    )
    settings = BuildSettings(quarantine_after=2, job_attempts=3)
    _, result = build(database, tmp_path, graph, fake, settings)
    assert result.state == SubmitState.SUCCEEDED
    assert sorted(e for _, e in fake.runs) == ["a", "a", "b", "b", "b"]
    health = {e.name: e for e in list_endpoints(database)}
    assert health["a"].consecutive_failures == 1  # one outage, counted once
    assert health["a"].quarantined_until is None
    assert fake.taken_out == []


def test_a_job_fails_when_every_endpoint_is_quarantined(database: Database, tmp_path: Path) -> None:
    fake = FakeScheduler([endpoint("a")], behaviour={"leaf1": _broken_on("a")})
    settings = BuildSettings(quarantine_after=1)
    _, result = build(database, tmp_path, {"leaf1": [], "top": ["leaf1"]}, fake, settings)
    assert fake.runs == [("leaf1", "a")]
    assert states(result) == {"leaf1": JobState.FAILED, "top": JobState.DEP_FAILED}
    assert result.jobs[0].error == NO_ENDPOINT
    assert recorded(database, result) == {"leaf1": JobState.FAILED, "top": JobState.DEP_FAILED}


def test_a_failure_fails_its_dependents_and_spares_the_rest(
    database: Database, tmp_path: Path
) -> None:
    graph = {"a": [], "b": ["a"], "c": ["b"], "d": []}
    fake = FakeScheduler([endpoint("primary", maxjobs=2)], behaviour={"a": script_failure})
    _, result = build(database, tmp_path, graph, fake)
    expected = {
        "a": JobState.FAILED,
        "b": JobState.DEP_FAILED,
        "c": JobState.DEP_FAILED,
        "d": JobState.SUCCEEDED,
    }
    assert states(result) == expected
    assert recorded(database, result) == expected
    assert result.state == SubmitState.FAILED
    assert sorted(name for name, _ in fake.runs) == ["a", "d"]  # the dependents never ran
    submit = db_submits.find_submit(database, result.submit_uuid)
    assert submit is not None
    assert submit.state is SubmitState.FAILED


def test_cancel_stops_the_running_job_and_starts_nothing_more(
    database: Database, tmp_path: Path
) -> None:
    graph = {"sleeper": [], "top": ["sleeper"], "sibling": ["sleeper"]}

    def until_canceled(where: Placement, container: str) -> ContainerOutcome:
        assert fake.canceled.wait(30)  # the container runs until cancel() removes it ...
        return engine_failure(where, container)  # ... and its engine reports it gone

    fake = FakeScheduler([endpoint("primary", maxjobs=2)], behaviour={"sleeper": until_canceled})

    def cancel_when_started(event: JobEvent) -> None:
        if event.kind is JobEventKind.STARTED:
            run.cancel()
            run.cancel()  # twice: harmless

    listener = Events(cancel_when_started)
    prepared = plan(tmp_path / "staging", graph, fake.endpoints)
    run = BuildRun(prepared, BuildRecorder(database), listener, scheduler=fake)
    result = run.run()
    assert run.canceled
    assert result.state == SubmitState.CANCELED
    assert set(states(result).values()) == {JobState.CANCELED}
    assert set(recorded(database, result).values()) == {JobState.CANCELED}
    assert fake.runs == [("sleeper", "primary")]  # no container after the cancel
    assert (fake.closed, fake.swept) == (True, True)
    submit = db_submits.find_submit(database, result.submit_uuid)
    assert submit is not None
    assert submit.state is SubmitState.CANCELED
    (attempt,) = attempts_of_job(database, result.jobs[0].uuid)
    assert attempt.failure_kind is FailureKind.CANCELED
    health = {e.name: e.consecutive_failures for e in list_endpoints(database)}
    assert health.get("primary", 0) == 0  # a canceled job is not the endpoint's failure


def test_a_matching_earlier_job_is_reused(database: Database, tmp_path: Path) -> None:
    graph = {"lib": [], "app": ["lib"]}
    first_fake = FakeScheduler([endpoint("primary")])
    _, first = build(database, tmp_path, graph, first_fake)
    assert first.state == SubmitState.SUCCEEDED

    again = FakeScheduler([endpoint("primary")])
    _, second = build(database, tmp_path, graph, again)
    assert again.runs == []
    assert states(second) == {"lib": JobState.REUSED, "app": JobState.REUSED}
    assert [j.reused_from for j in second.jobs] == [j.uuid for j in first.jobs]
    assert [a.sha256 for a in second.reused] == [a.sha256 for a in first.created]
    rows = db_jobs.list_jobs(database, db_jobs.JobFilter(submit_uuid=second.submit_uuid))
    assert {j.state for j in rows} == {JobState.REUSED}
    assert {j.reused_from_uuid for j in rows} == {j.uuid for j in first.jobs}
    assert all(j.endpoint is None and j.container_hash is None for j in rows)


def test_a_job_whose_artifacts_are_gone_runs_again(database: Database, tmp_path: Path) -> None:
    graph = {"lib": [], "app": ["lib"]}
    _, first = build(database, tmp_path, graph, FakeScheduler([endpoint("primary")]))
    (first.staging_dir / "lib-1.pkg").write_text("changed\n")
    again = FakeScheduler([endpoint("primary")])
    _, second = build(database, tmp_path, graph, again)
    # lib runs; its new artifact has the old content, so app's key is the same: reused.
    assert again.runs == [("lib", "primary")]
    assert states(second) == {"lib": JobState.SUCCEEDED, "app": JobState.REUSED}


def test_no_reuse_runs_everything(database: Database, tmp_path: Path) -> None:
    graph = {"lib": [], "app": ["lib"]}
    build(database, tmp_path, graph, FakeScheduler([endpoint("primary")]))
    again = FakeScheduler([endpoint("primary")])
    _, second = build(database, tmp_path, graph, again, BuildSettings(reuse=False))
    assert [name for name, _ in again.runs] == ["lib", "app"]
    assert set(states(second).values()) == {JobState.SUCCEEDED}


def _broken_on(name: str) -> Behaviour:
    """Containers fail on endpoint `name` (its engine is broken) and succeed elsewhere."""

    def behaviour(where: Placement, container: str) -> ContainerOutcome | None:
        return engine_failure(where, container) if where.endpoint == name else None

    return behaviour
