"""Endpoint slots shared by several butido processes through the database (DESIGN.md §8): real
processes, a real Docker engine, SQLite and PostgreSQL.

- `maxjobs` holds across processes: the recorded running intervals never overlap more, and the
  engine, sampled every 50 ms, never runs more containers of these submits;
- a 1-job build started while a big build holds every slot gets the next free one;
- a build killed with SIGKILL loses its slots: the other finishes, the dead one is `lost`.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import docker
import pytest

from butido_py.db import jobs as db_jobs
from butido_py.db import leases
from butido_py.db.submits import find_submit
from butido_py.states import SubmitState
from tests.helpers.workspace import Workspace
from tests.integration.builds.test_build_run import max_overlap

MAXJOBS = 2  # the workspace fixtures' endpoint


def add_fan(space: Workspace, name: str, leaves: int, seconds: float) -> None:
    """Package `name` 1 needing `leaves` packages that each sleep `seconds`."""
    names = [f"{name}-leaf{i}" for i in range(leaves)]
    for leaf in names:
        space.add_package(
            leaf,
            build=f'{{{{phase "build"}}}}\nsleep {seconds}\nmkdir -p /outputs\n'
            f'echo "package {leaf} 1" > /outputs/{leaf}-1.pkg',
        )
    space.add_package(name, depends=[f"{leaf} 1" for leaf in names])


def start(space: Workspace, name: str, *extra: str) -> tuple[subprocess.Popen[str], uuid.UUID]:
    """`butido build NAME 1 --no-reuse` in its own process; the submit's uuid is chosen here."""
    submit = uuid.uuid4()
    staging = space.data / "staging" / str(submit)
    process = space.popen(
        "build", name, "1", "-I", "tiny", "--no-reuse", "--staging-dir", str(staging), *extra
    )
    return process, submit


def finish(process: subprocess.Popen[str], timeout: float = 180) -> None:
    _, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr


class EngineSampler:
    """Counts the running containers of some submits on the engine every 50 ms; the peak."""

    def __init__(self, uri: str, submits: set[str]) -> None:
        self._client = docker.APIClient(base_url=uri)
        self._submits = submits
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @contextmanager
    def sampling(self) -> Iterator[EngineSampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            self._client.close()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            running = self._client.containers(filters={"label": "butido.submit"})
            ours = [c for c in running if c["Labels"].get("butido.submit") in self._submits]
            self.peak = max(self.peak, len(ours))


def intervals(space: Workspace, submits: Sequence[uuid.UUID]) -> list[tuple[datetime | None, ...]]:
    found: list[tuple[datetime | None, ...]] = []
    for submit in submits:
        jobs = db_jobs.list_jobs(space.database(), db_jobs.JobFilter(submit_uuid=submit))
        found += [(job.started_at, job.finished_at) for job in jobs]
    return found


@pytest.mark.parametrize("processes", [2, 6])
def test_concurrent_builds_never_exceed_maxjobs(workspace: Workspace, processes: int) -> None:
    add_fan(workspace, "fan", leaves=1, seconds=0.3)
    workspace.commit()
    uri = workspace.config().docker.endpoints[0].uri
    started = [start(workspace, "fan") for _ in range(processes)]
    submits = [submit for _, submit in started]
    with EngineSampler(uri, {str(s) for s in submits}).sampling() as sampler:
        for process, _ in started:
            finish(process)
    found = intervals(workspace, submits)
    assert len(found) == 2 * processes
    assert all(start and end for start, end in found)
    assert max_overlap([(start, end) for start, end in found]) <= MAXJOBS
    assert 1 <= sampler.peak <= MAXJOBS
    assert leases.live_leases(workspace.database()) == []


def test_a_small_build_is_not_stuck_behind_a_big_one(workspace: Workspace) -> None:
    add_fan(workspace, "big", leaves=28, seconds=0.5)
    workspace.add_package(
        "small",
        build='{{phase "build"}}\nsleep 0.5\nmkdir -p /outputs\necho small > /outputs/small-1.pkg',
    )
    workspace.commit()
    big, big_submit = start(workspace, "big")
    _wait_for_leases(workspace, big_submit, MAXJOBS)
    small, _ = start(workspace, "small")
    finish(small)
    small_done = time.monotonic()
    finish(big)
    big_done = time.monotonic()
    # The big build has ~14 s of slot time left when the small one starts.
    assert big_done - small_done > 4


def test_a_killed_build_loses_its_slots_and_the_other_finishes(workspace: Workspace) -> None:
    add_fan(workspace, "fan", leaves=3, seconds=2)
    workspace.commit()
    victim, victim_submit = start(workspace, "fan")
    _wait_for_leases(workspace, victim_submit, 1)
    survivor, _ = start(workspace, "fan")
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    finish(survivor)
    database = workspace.database()
    record = find_submit(database, victim_submit)
    assert record is not None
    if record.state is SubmitState.RUNNING:
        # The survivor did not have to wait for the dead build's slots: any command recovers it.
        workspace.cli("db", "submits")
        record = find_submit(database, victim_submit)
        assert record is not None
    assert record.state is SubmitState.LOST
    assert leases.live_leases(database) == []


def _wait_for_leases(space: Workspace, submit: uuid.UUID, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        held = [
            lease for lease in leases.live_leases(space.database()) if lease.submit_uuid == submit
        ]
        if len(held) >= count:
            return
        time.sleep(0.05)
    pytest.fail(f"submit {submit} never held {count} slots")
