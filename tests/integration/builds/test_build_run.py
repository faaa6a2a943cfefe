"""Builds through the application layer on the real Docker engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from butido_py.app.build import BuildRequest
from butido_py.config.model import EndpointConfig
from butido_py.db import artifacts as db_artifacts
from butido_py.db import jobs as db_jobs
from butido_py.db import submits as db_submits
from butido_py.states import FailureKind, JobState, SubmitState
from tests.helpers.databases import BACKENDS
from tests.helpers.workspace import Workspace, make_workspace

pytestmark = pytest.mark.docker

LIBPNG = BuildRequest(name="libpng", version="1.6.40", image="tiny")
LIBPNG_TREE = {"libpng", "make", "pkgconf", "zlib", "libc", "filesystem"}


# On PostgreSQL: the reuse decision itself is covered on SQLite by
# tests/unit/orchestrator/test_run_decisions.py, and end to end by tests/e2e/test_build.py.
@pytest.mark.parametrize("workspace", [BACKENDS[1]], indirect=True)
def test_build_is_recorded_then_reused(workspace: Workspace) -> None:
    first = workspace.run(LIBPNG)
    assert first.state == "succeeded"
    assert {j.package for j in first.jobs} == LIBPNG_TREE
    assert {j.state for j in first.jobs} == {"succeeded"}
    db = workspace.database()
    submit = db_submits.find_submit(db, first.submit_uuid)
    assert submit is not None
    assert submit.state is SubmitState.SUCCEEDED
    jobs, edges = db_jobs.jobs_of_submit(db, submit.id)
    assert len(jobs) == 6
    assert len(edges) >= 5
    for job in jobs:
        assert job.state is JobState.SUCCEEDED
        assert job.endpoint == "primary"
        assert job.container_hash
        assert (job.image_digest or "").startswith("sha256:")
        assert job.job_key is not None
        assert job.queued_at is not None
        assert job.started_at is not None
        assert job.finished_at is not None
        assert job.queued_at <= job.started_at <= job.finished_at
        artifacts = db_artifacts.list_artifacts(db, job_uuid=job.uuid)
        assert [a.path for a in artifacts] == [f"{job.package_name}-{job.package_version}.pkg"]
        staged = first.staging_dir / artifacts[0].path
        assert hashlib.sha256(staged.read_bytes()).hexdigest() == artifacts[0].sha256
        assert staged.stat().st_size == artifacts[0].size
    libpng = next(j for j in jobs if j.package_name == "libpng")
    inputs = {a.path for a in db_artifacts.input_artifacts(db, libpng.uuid)}
    assert inputs == {f"{j.package_name}-{j.package_version}.pkg" for j in jobs} - {
        "libpng-1.6.40.pkg"
    }

    second = workspace.run(LIBPNG)
    assert second.state == "succeeded"
    assert {j.state for j in second.jobs} == {"reused"}
    by_package = {j.package_name: j.uuid for j in jobs}
    for summary in second.jobs:
        assert summary.reused_from == by_package[summary.package]
        assert summary.container is None
    reused = db_jobs.list_jobs(db, db_jobs.JobFilter(submit_uuid=second.submit_uuid))
    assert {j.reused_from_uuid for j in reused} == set(by_package.values())
    assert all(j.endpoint is None and j.container_hash is None for j in reused)


def test_no_reuse_rebuilds_bit_for_bit(sqlite_workspace: Workspace) -> None:
    first = sqlite_workspace.run(LIBPNG)
    again = sqlite_workspace.run(
        BuildRequest(name="libpng", version="1.6.40", image="tiny", reuse=False, write_log=True)
    )
    assert {j.state for j in again.jobs} == {"succeeded"}
    digests = {a.path: a.sha256 for a in first.created}
    assert {a.path: a.sha256 for a in again.created} == digests
    logs = sorted((sqlite_workspace.data / "logs").iterdir())
    assert [p.name for p in logs] == sorted(
        f"{j.package}-{j.version}-butido-tiny:latest-{j.uuid}.log" for j in again.jobs
    )
    assert all(p.read_text().endswith("#BUTIDO:STATE:OK\n") for p in logs)


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("mkdir -p /outputs; ln -s /etc/passwd /outputs/evil", "is a link"),
        ("mkdir -p /outputs; mkfifo /outputs/pipe", "is a special file"),
    ],
)
def test_hostile_output_archive_is_refused(
    sqlite_workspace: Workspace, script: str, reason: str
) -> None:
    sqlite_workspace.add_package("hostile", build=f'{{{{phase "build"}}}}\n{script}')
    sqlite_workspace.commit()
    result = sqlite_workspace.run(BuildRequest(name="hostile", version="1", image="tiny"))
    (job,) = result.jobs
    assert job.state == "failed"
    assert job.error is not None
    assert "output archive rejected" in job.error
    assert reason in job.error
    assert list(result.staging_dir.iterdir()) == []
    record = db_jobs.find_job(sqlite_workspace.database(), job.uuid)
    assert record is not None
    assert record.failure_kind is FailureKind.OUTPUTS


def test_jobs_spread_over_two_endpoints_within_maxjobs(
    tmp_path: Path, docker_endpoint: EndpointConfig, second_docker_endpoint: EndpointConfig
) -> None:
    endpoints = [replace(docker_endpoint, maxjobs=2), replace(second_docker_endpoint, maxjobs=1)]
    space = make_workspace(tmp_path, endpoints, f"sqlite:///{tmp_path / 'two.sqlite'}")
    leaves = [f"leaf{i}" for i in range(7)]
    for leaf in leaves:
        space.add_package(
            leaf,
            build=f'{{{{phase "build"}}}}\nsleep 1\nmkdir -p /outputs\n'
            f'echo "package {leaf} 1" > /outputs/{leaf}-1.pkg',
        )
    space.add_package("fan", depends=[f"{leaf} 1" for leaf in leaves])
    space.commit()
    try:
        result = space.run(BuildRequest(name="fan", version="1", image="tiny"))
        assert result.state == "succeeded"
        jobs = db_jobs.list_jobs(
            space.database(), db_jobs.JobFilter(submit_uuid=result.submit_uuid)
        )
    finally:
        space.close()
    used = {j.endpoint for j in jobs}
    assert used == {"primary", "secondary"}
    for endpoint in endpoints:
        intervals = [(j.started_at, j.finished_at) for j in jobs if j.endpoint == endpoint.name]
        assert max_overlap(intervals) <= endpoint.maxjobs


def max_overlap(intervals: list[tuple[datetime | None, datetime | None]]) -> int:
    """The most intervals open at one instant (an end before a start at the same instant)."""
    points = sorted(
        [(start, 1) for start, _ in intervals if start]
        + [(end, -1) for _, end in intervals if end],
        key=lambda p: (p[0], p[1]),
    )
    running = peak = 0
    for _, delta in points:
        running += delta
        peak = max(peak, running)
    return peak


def test_exit_code_alone_fails_a_job_and_the_last_lines_are_kept(
    sqlite_workspace: Workspace,
) -> None:
    script = '{{phase "build"}}\nfor i in $(seq 1 20); do echo "line $i"; done\nexit 3'
    sqlite_workspace.add_package("noisy", build=script)
    sqlite_workspace.commit()
    result = sqlite_workspace.run(BuildRequest(name="noisy", version="1", image="tiny"))
    (job,) = result.jobs
    assert job.state == "failed"
    assert job.exit_code == 3
    assert job.phase == "build"
    assert job.error == "the script exited with code 3"
    assert [text for _, text in job.last_lines] == [f"line {i}" for i in range(16, 21)]
    indices = [index for index, _ in job.last_lines]
    assert indices == list(range(indices[0], indices[0] + 5))
    assert indices[0] > 10  # counted in the whole log
    record = db_jobs.find_job(sqlite_workspace.database(), job.uuid)
    assert record is not None
    assert (record.failure_kind, record.exit_code) == (FailureKind.SCRIPT, 3)
