"""Coalescing of identical work in flight: two builds of the same plan in one process, sharing a
real SQLite database, through fake schedulers (no Docker)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from butido_py.db import jobs as db_jobs
from butido_py.db.coalescing import InFlightJob, claim_job_key
from butido_py.db.database import Database
from butido_py.orchestrator.coalescing import Coalescing
from butido_py.orchestrator.container_run import ContainerOutcome
from butido_py.orchestrator.model import (
    BuildResult,
    BuildSettings,
    JobEvent,
    JobEventKind,
    PreparedBuild,
)
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.orchestrator.run import BuildRun
from butido_py.orchestrator.scheduling import Placement
from butido_py.process import pid_alive
from butido_py.states import JobState, SubmitState
from tests.unit.orchestrator.fakes import (
    Behaviour,
    Events,
    FakeScheduler,
    endpoint,
    plan,
    script_failure,
)

GRAPH = {"leaf1": [], "top": ["leaf1"]}
WAIT = 30.0


class Background:
    """A build running in a thread, with events to follow it."""

    def __init__(
        self,
        database: Database,
        prepared: PreparedBuild,
        scheduler: FakeScheduler,
        on_event: Callable[[JobEvent], None] = lambda _e: None,
    ) -> None:
        self.listener = Events(on_event)
        self.scheduler = scheduler
        self.run = BuildRun(prepared, BuildRecorder(database), self.listener, scheduler=scheduler)
        self.result: BuildResult | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        self.result = self.run.run()

    def join(self) -> BuildResult:
        self._thread.join(WAIT)
        assert self.result is not None
        return self.result


def held(gate: threading.Event, outcome: ContainerOutcome | None = None) -> Behaviour:
    """A container that runs until `gate` opens, then ends with `outcome` (None: success)."""

    def behaviour(_where: Placement, container: str) -> ContainerOutcome | None:
        assert gate.wait(WAIT)
        return outcome if outcome is None else replace(outcome, container_id=container)

    return behaviour


def started(name: str, flag: threading.Event) -> Callable[[JobEvent], None]:
    def on_event(event: JobEvent) -> None:
        if event.kind is JobEventKind.STARTED and event.package == name:
            flag.set()

    return on_event


def waiting(name: str, flag: threading.Event) -> Callable[[JobEvent], None]:
    def on_event(event: JobEvent) -> None:
        if event.kind is JobEventKind.WAITING and event.package == name:
            flag.set()

    return on_event


def first_build(
    database: Database,
    tmp_path: Path,
    behaviour: Mapping[str, Behaviour],
    graph: Mapping[str, Sequence[str]] = GRAPH,
) -> Background:
    """A build whose `leaf1` runs until the test lets it end (it has started on return)."""
    running = threading.Event()
    fake = FakeScheduler([endpoint("a", maxjobs=2)], behaviour=dict(behaviour))
    build = Background(
        database, plan(tmp_path, graph, fake.endpoints), fake, started("leaf1", running)
    )
    assert running.wait(WAIT)
    return build


def second_build(
    database: Database,
    tmp_path: Path,
    settings: BuildSettings | None = None,
    graph: Mapping[str, Sequence[str]] = GRAPH,
) -> tuple[Background, threading.Event]:
    """The same plan (same keys) in another submit; the event is set once `leaf1` waits."""
    is_waiting = threading.Event()
    fake = FakeScheduler([endpoint("a", maxjobs=2)])
    prepared = plan(tmp_path, graph, fake.endpoints, settings)
    return Background(database, prepared, fake, waiting("leaf1", is_waiting)), is_waiting


def states(result: BuildResult) -> dict[str, str]:
    return {job.package: job.state for job in result.jobs}


def test_a_job_in_flight_elsewhere_is_waited_for_and_reused(
    database: Database, tmp_path: Path
) -> None:
    gate = threading.Event()
    first = first_build(database, tmp_path, {"leaf1": held(gate)})
    second, is_waiting = second_build(database, tmp_path)
    assert is_waiting.wait(WAIT)
    assert second.scheduler.runs == []  # it waits in no slot
    gate.set()
    one, two = first.join(), second.join()
    assert (one.state, two.state) == (SubmitState.SUCCEEDED, SubmitState.SUCCEEDED)
    assert states(two) == {"leaf1": JobState.REUSED, "top": JobState.REUSED}
    assert second.scheduler.runs == []
    made = {job.package: job.uuid for job in one.jobs}
    assert {job.package: job.reused_from for job in two.jobs} == made
    leaf1 = db_jobs.find_job(database, two.jobs[0].uuid)
    assert leaf1 is not None
    assert (leaf1.state, leaf1.reused_from_uuid) == (JobState.REUSED, made["leaf1"])
    (event,) = [e for e in second.listener.events if e.kind is JobEventKind.WAITING]
    assert event.detail == f"job {made['leaf1']} of submit {one.submit_uuid}"


def test_when_the_job_waited_for_fails_the_waiting_one_runs(
    database: Database, tmp_path: Path
) -> None:
    gate = threading.Event()
    failing = held(gate, script_failure(Placement(uuid.uuid4(), "a"), ""))
    first = first_build(database, tmp_path, {"leaf1": failing})
    second, is_waiting = second_build(database, tmp_path)
    assert is_waiting.wait(WAIT)
    gate.set()
    one, two = first.join(), second.join()
    assert states(one) == {"leaf1": JobState.FAILED, "top": JobState.DEP_FAILED}
    assert states(two) == {"leaf1": JobState.SUCCEEDED, "top": JobState.SUCCEEDED}
    assert second.scheduler.runs == [("leaf1", "a"), ("top", "a")]


def test_a_canceled_wait_cancels_the_job(database: Database, tmp_path: Path) -> None:
    gate = threading.Event()
    first = first_build(database, tmp_path, {"leaf1": held(gate)})
    second, is_waiting = second_build(database, tmp_path)
    assert is_waiting.wait(WAIT)
    second.run.cancel()
    two = second.join()
    assert two.state == SubmitState.CANCELED
    assert states(two) == {"leaf1": JobState.CANCELED, "top": JobState.CANCELED}
    assert second.scheduler.runs == []
    gate.set()
    assert first.join().state == SubmitState.SUCCEEDED


def test_no_reuse_does_not_wait(database: Database, tmp_path: Path) -> None:
    gate = threading.Event()
    first = first_build(database, tmp_path, {"leaf1": held(gate)})
    second, is_waiting = second_build(database, tmp_path, BuildSettings(reuse=False))
    two = second.join()
    gate.set()
    first.join()
    assert not is_waiting.is_set()
    assert states(two) == {"leaf1": JobState.SUCCEEDED, "top": JobState.SUCCEEDED}


def test_concurrent_claims_of_one_key_let_exactly_one_run(
    database: Database, tmp_path: Path
) -> None:
    fake = FakeScheduler([endpoint("a")])
    plans = [plan(tmp_path, {"leaf1": []}, fake.endpoints) for _ in range(6)]
    for prepared in plans:
        BuildRecorder(database).record_plan(prepared)
    barrier = threading.Barrier(len(plans))
    outcomes: dict[uuid.UUID, InFlightJob | None] = {}

    def claim(job: uuid.UUID) -> None:
        barrier.wait()
        outcomes[job] = claim_job_key(database, job, "k" * 64, None, at=datetime.now(UTC))

    threads = [threading.Thread(target=claim, args=(p.jobs[0].uuid,)) for p in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    (winner,) = [job for job, other in outcomes.items() if other is None]
    assert {other.uuid for other in outcomes.values() if other is not None} == {winner}
    assert [db_jobs.find_job(database, p.jobs[0].uuid).state for p in plans].count(  # type: ignore[union-attr]
        JobState.QUEUED
    ) == 1


def _in_flight(**changes: object) -> InFlightJob:
    base = InFlightJob(
        uuid=uuid.uuid4(),
        state=JobState.RUNNING,
        submit_uuid=uuid.uuid4(),
        submit_state=SubmitState.RUNNING,
        orchestrator_host="elsewhere",
        orchestrator_pid=1,
        heartbeat_at=datetime.now(UTC),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "usable"),
    [
        ({}, True),
        ({"state": JobState.SUCCEEDED, "heartbeat_at": None}, True),
        ({"state": JobState.FAILED}, False),
        ({"submit_state": SubmitState.LOST}, False),
        ({"heartbeat_at": -601.0}, False),  # seconds from now, made when the test runs
        ({"heartbeat_at": "naive"}, True),  # SQLite: naive UTC
    ],
)
def test_which_jobs_in_flight_can_be_waited_for(
    database: Database, tmp_path: Path, changes: dict[str, object], usable: bool
) -> None:
    coalescing = Coalescing(
        plan(tmp_path, GRAPH, [endpoint("a")]), BuildRecorder(database), lambda _job: None
    )
    when = changes.get("heartbeat_at")
    if isinstance(when, float):
        changes = {**changes, "heartbeat_at": datetime.now(UTC) + timedelta(seconds=when)}
    elif when == "naive":
        changes = {**changes, "heartbeat_at": datetime.now(UTC).replace(tzinfo=None)}
    assert coalescing.usable(_in_flight(**changes)) is usable


def test_a_dead_orchestrator_on_this_host_is_not_waited_for(
    database: Database, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = int(done.stdout)
    assert not pid_alive(dead)
    coalescing = Coalescing(
        plan(tmp_path, GRAPH, [endpoint("a")]), BuildRecorder(database), lambda _job: None
    )
    here = socket.gethostname()
    assert not coalescing.usable(_in_flight(orchestrator_host=here, orchestrator_pid=dead))
    assert coalescing.usable(_in_flight(orchestrator_host=here, orchestrator_pid=os.getpid()))
