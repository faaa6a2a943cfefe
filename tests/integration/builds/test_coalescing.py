"""Coalescing across processes (issue 16, acceptance 2): two `butido build` processes of the same
new commit run each job once in all, on SQLite and on PostgreSQL; when the build that runs a job
is canceled, the one that waited for it runs it itself."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import IO

import pytest

from butido_py.db import jobs as db_jobs
from butido_py.db.records import JobRecord
from butido_py.states import JobState
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.docker

BUILD = ("build", "top", "1", "-I", "tiny")
WAIT = 120


def slow_package(
    space: Workspace, name: str, seconds: float, depends: tuple[str, ...] = ()
) -> None:
    space.add_package(
        name,
        build=f'{{{{phase "build"}}}}\nsleep {seconds}\nmkdir -p /outputs\n'
        f'echo "package {name} 1" > /outputs/{name}-1.pkg',
        depends=[f"{need} 1" for need in depends],
    )


class Lines:
    """The output lines of a running build (progress goes to stderr), read in threads so that
    the pipes never fill."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self._threads = [
            threading.Thread(target=self._read, args=(stream,), daemon=True)
            for stream in (process.stdout, process.stderr)
        ]
        for thread in self._threads:
            thread.start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()

    def wait_for(self, text: str) -> None:
        with self._seen:
            found = self._seen.wait_for(lambda: any(text in line for line in self.lines), WAIT)
        assert found, f"no line with {text!r} in:\n{''.join(self.lines)}"

    def finish(self) -> int:
        code = self.process.wait(WAIT)
        for thread in self._threads:
            thread.join(WAIT)
        return code


@pytest.fixture
def builds() -> Iterator[list[Lines]]:
    started: list[Lines] = []
    yield started
    for build in started:
        if build.process.poll() is None:
            build.process.send_signal(signal.SIGINT)
        build.finish()
        for stream in (build.process.stdout, build.process.stderr):
            if stream is not None:
                stream.close()


def jobs_by_package(space: Workspace) -> dict[str, list[JobRecord]]:
    found: dict[str, list[JobRecord]] = {}
    for job in db_jobs.list_jobs(space.database(), db_jobs.JobFilter()):
        found.setdefault(job.package_name, []).append(job)
    return found


def test_two_builds_of_one_commit_run_each_job_once(
    workspace: Workspace, builds: list[Lines]
) -> None:
    slow_package(workspace, "base", 3)
    slow_package(workspace, "left", 1, ("base",))
    slow_package(workspace, "right", 1, ("base",))
    slow_package(workspace, "top", 0, ("left", "right"))
    workspace.commit()
    builds += [Lines(workspace.popen(*BUILD)), Lines(workspace.popen(*BUILD))]
    codes = [build.finish() for build in builds]
    output = "".join(line for build in builds for line in build.lines)
    assert codes == [0, 0], output
    assert "waiting   base 1 for job" in output  # the second waited for the first's job
    jobs = jobs_by_package(workspace)
    assert set(jobs) == {"base", "left", "right", "top"}
    for package, pair in jobs.items():
        states = Counter(job.state for job in pair)
        assert states == {JobState.SUCCEEDED: 1, JobState.REUSED: 1}, package
        (made,) = [job for job in pair if job.state is JobState.SUCCEEDED]
        (reused,) = [job for job in pair if job.state is JobState.REUSED]
        assert reused.reused_from_uuid == made.uuid
        assert made.submit_uuid != reused.submit_uuid


def test_a_job_waited_for_whose_build_is_canceled_is_run_by_the_waiting_build(
    sqlite_workspace: Workspace, builds: list[Lines]
) -> None:
    space = sqlite_workspace
    slow_package(space, "top", 6)
    space.commit()
    builds += [Lines(space.popen(*BUILD)), Lines(space.popen(*BUILD))]
    waiter = wait_until_one_waits(builds)
    (runner,) = [build for build in builds if build is not waiter]
    runner.process.send_signal(signal.SIGINT)
    assert runner.finish() != 0
    assert waiter.finish() == 0, "".join(waiter.lines)
    top = jobs_by_package(space)["top"]
    assert Counter(job.state for job in top) == {JobState.CANCELED: 1, JobState.SUCCEEDED: 1}
    assert any("started   top 1" in line for line in waiter.lines)


def wait_until_one_waits(builds: list[Lines]) -> Lines:
    """The build whose job waits for the other's (both start at once: either may claim it)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for build in builds:
            if any("waiting   top 1 for job" in line for line in build.lines):
                return build
        time.sleep(0.1)
    raise AssertionError("neither build waited:\n" + "".join(builds[0].lines + builds[1].lines))
