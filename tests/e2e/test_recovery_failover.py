"""Crash recovery and endpoint failover end to end: the real command, real Docker engines, SQLite
and PostgreSQL (docs/recovery.md).

The failover test kills the second Docker daemon (the one scripts/services starts on
tcp://127.0.0.1:23750) in the middle of a build and starts it again with scripts/services.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import pytest

from butido_py.config.model import EndpointConfig
from butido_py.db import jobs as db_jobs
from butido_py.db import submits as db_submits
from butido_py.db.attempts import attempts_of_job
from butido_py.db.endpoints import list_endpoints
from butido_py.endpoint.docker_hosts import remove_containers, submit_containers
from butido_py.errors import ExitCode
from butido_py.states import FailureKind, JobState, SubmitState
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.workspace import Workspace, make_workspace
from tests.plugins.services import service_missing

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "scripts" / "services"
DOCKER2_PIDFILE = Path("/run/butido-docker2.pid")
DOCKER2_TCP = "tcp://127.0.0.1:23750"


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str
) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path, postgres_url) as url:
        yield url


def running_job(space: Workspace) -> tuple[str, str]:
    """(submit uuid, job package) of the first job the database shows `running` (waits)."""
    db = space.database()
    for _ in range(1200):
        for submit in db_submits.list_submits(db, db_submits.SubmitFilter()):
            jobs, _ = db_jobs.jobs_of_submit(db, submit.id)
            for job in jobs:
                if job.state is JobState.RUNNING:
                    return str(submit.uuid), job.package_name
        time.sleep(0.1)
    pytest.fail("no job became running")


# --- crash recovery -----------------------------------------------------------------------------


def test_kill_9_of_a_build_is_recovered_by_the_next_db_command(
    tmp_path: Path, docker_endpoint: EndpointConfig, database_url: str
) -> None:
    space = make_workspace(tmp_path, [replace(docker_endpoint, maxjobs=2)], database_url)
    try:
        space.add_package("sleeper", build='{{phase "build"}}\nsleep 300')
        space.add_package("top", depends=["sleeper 1"])
        space.commit()
        process = space.popen("build", "top", "1", "-I", "tiny")
        try:
            submit, package = running_job(space)
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.communicate(timeout=30)  # reaped: its pid is gone
        assert package == "sleeper"
        assert len(submit_containers(docker_endpoint, submit)) == 1  # it outlived butido
        # What a kill in the middle of a job's output extraction leaves: a scratch directory,
        # and a file moved into place before its job was recorded.
        staging = space.data / "staging" / submit
        (staging / ".incoming-0123" / "outputs").mkdir(parents=True)
        (staging / ".incoming-0123" / "outputs" / "half.pkg").write_text("half")
        (staging / "early.pkg").write_text("moved, never recorded")

        # Two commands at once: one of them recovers the submit, neither fails.
        first, second = space.popen("db", "submits"), space.popen("db", "jobs", "-L", "0")
        outputs = [first.communicate(timeout=60), second.communicate(timeout=60)]
        assert (first.returncode, second.returncode) == (0, 0), outputs
        line = (
            f"submit {submit} of pid {process.pid} on host {socket.gethostname()} was lost: "
            "2 jobs marked lost, 1 containers removed, 2 unrecorded files removed from its "
            "staging directory"
        )
        assert sorted(err.splitlines() for _, err in outputs) == [[], [line]]

        assert submit_containers(docker_endpoint, submit) == []
        assert list(staging.iterdir()) == []
        db = space.database()
        (record,) = db_submits.list_submits(db, db_submits.SubmitFilter())
        assert record.state is SubmitState.LOST
        assert record.finished_at is not None
        jobs, _ = db_jobs.jobs_of_submit(db, record.id)
        assert {(j.package_name, j.state, j.failure_kind) for j in jobs} == {
            ("sleeper", JobState.LOST, FailureKind.LOST),
            ("top", JobState.LOST, FailureKind.LOST),
        }
        (attempt,) = attempts_of_job(db, next(j.uuid for j in jobs if j.package_name == "sleeper"))
        assert attempt.failure_kind is FailureKind.LOST
        again = space.cli("db", "submit", submit)
        assert again.code == 0, again.stderr
        assert "was lost" not in again.stderr  # recovered once
    finally:
        space.close()


# --- failover -----------------------------------------------------------------------------------


def docker2_pid() -> int:
    if os.geteuid() != 0 or not DOCKER2_PIDFILE.exists() or not SERVICES.exists():
        service_missing("the second Docker daemon of scripts/services", "cannot restart it")
    if os.environ.get("BUTIDO_TEST_DOCKER2_HOST", DOCKER2_TCP) != DOCKER2_TCP:
        service_missing("the second Docker daemon of scripts/services", "another one is used")
    return int(DOCKER2_PIDFILE.read_text().strip())


def restart_docker2() -> None:
    """Start the second daemon again the way scripts/services does (it waits until it answers)."""
    done = subprocess.run(
        [str(SERVICES), "--second-docker", "--no-postgres"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def wait_for_running_containers(endpoint: EndpointConfig, count: int) -> str:
    """The submit uuid of `count` running job containers on `endpoint` (waits for them)."""
    client = docker.DockerClient(base_url=endpoint.docker_url)
    try:
        for _ in range(1200):
            found = client.containers.list(filters={"label": "butido.job"})
            if len(found) >= count:
                return str(found[0].labels["butido.submit"])
            time.sleep(0.1)
    finally:
        client.close()
    pytest.fail(f"{count} containers never ran on {endpoint.name}")


# On PostgreSQL only: failover and quarantine decisions are covered on SQLite, without Docker, by
# tests/unit/orchestrator/test_run_decisions.py; this is their one real end-to-end.
@pytest.mark.parametrize("database_url", [BACKENDS[1]], indirect=True)
def test_a_dead_engine_fails_over_to_the_other_and_is_quarantined(
    tmp_path: Path,
    docker_endpoint: EndpointConfig,
    second_docker_endpoint: EndpointConfig,
    database_url: str,
) -> None:
    dockerd = docker2_pid()
    endpoints = [replace(docker_endpoint, maxjobs=2), replace(second_docker_endpoint, maxjobs=2)]
    space = make_workspace(tmp_path, endpoints, database_url)
    config = space.root / "config.toml"  # one failure quarantines: both jobs' make one outage
    config.write_text(
        config.read_text().replace("[docker]\n", "[docker]\nquarantine_after = 1\n", 1)
    )
    leaves = [f"leaf{i}" for i in range(4)]
    for leaf in leaves:  # two on each endpoint, all running at once
        space.add_package(
            leaf,
            build=f'{{{{phase "build"}}}}\nsleep 4\nmkdir -p /outputs\n'
            f'echo "package {leaf} 1" > /outputs/{leaf}-1.pkg',
        )
    space.add_package("fan", depends=[f"{leaf} 1" for leaf in leaves])
    space.commit()
    process = space.popen("build", "fan", "1", "-I", "tiny", "--no-reuse", "--json")
    submit = None
    try:
        submit = wait_for_running_containers(second_docker_endpoint, 2)
        os.kill(dockerd, signal.SIGKILL)  # the engine dies while both jobs run
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
        restart_docker2()
        if submit is not None:  # what the dead engine kept of the build
            remove_containers(
                second_docker_endpoint, submit_containers(second_docker_endpoint, submit)
            )
    try:
        assert process.returncode == 0, stderr
        summary = json.loads(stdout)
        assert summary["state"] == "succeeded"
        assert {job["endpoint"] for job in summary["jobs"]} == {"primary"}
        assert "is quarantined until" in stderr
        # The plain progress lines (stderr with --json) tell about each retry.
        assert re.search(r"retrying  \S+ 1: endpoint secondary failed; attempt 2 of 3: ", stderr)

        db = space.database()
        (record,) = db_submits.list_submits(db, db_submits.SubmitFilter())
        jobs, _ = db_jobs.jobs_of_submit(db, record.id)
        attempts = {j.package_name: attempts_of_job(db, j.uuid) for j in jobs}
        retried = sorted(name for name, tries in attempts.items() if len(tries) > 1)
        assert len(retried) == 2
        for name in retried:
            first, second = attempts[name]
            assert (first.attempt, first.endpoint, first.failure_kind) == (
                1,
                "secondary",
                FailureKind.INFRA,
            )
            assert "secondary" in (first.error or "")
            assert (second.attempt, second.endpoint, second.failure_kind) == (2, "primary", None)
            job = next(j for j in jobs if j.package_name == name)
            assert (job.state, job.attempt, job.endpoint) == (JobState.SUCCEEDED, 2, "primary")
        for name in set(attempts) - set(retried):
            assert [(a.endpoint, a.failure_kind) for a in attempts[name]] == [("primary", None)]

        health = {e.name: e for e in list_endpoints(db)}
        # Both jobs died in the same outage: one failure, one (not a doubled) quarantine.
        assert health["secondary"].consecutive_failures == 1
        until = health["secondary"].quarantined_until
        assert until is not None
        assert datetime.now(UTC) < until <= datetime.now(UTC) + timedelta(seconds=300)
        assert health["primary"].consecutive_failures == 0

        shown = space.cli(
            "db", "job", str(next(j.uuid for j in jobs if j.package_name == retried[0]))
        )
        assert shown.code == 0, shown.stderr
        assert "Attempts:" in shown.stdout
        listed = space.cli("endpoint", "list", "--json")
        assert listed.code == 0, listed.stderr
        states = {row["name"]: (row["state"], row["failures"]) for row in json.loads(listed.stdout)}
        assert states == {"primary": ("enabled", 0), "secondary": ("quarantined", 1)}
        pinned = space.cli("build", "fan", "1", "-I", "tiny", "--endpoint", "secondary")
        assert pinned.code == ExitCode.ENDPOINT
        assert "error: endpoint 'secondary' is quarantined until " in pinned.stderr
        assert "butido endpoint enable secondary" in pinned.stderr
        assert space.cli("endpoint", "enable", "secondary").code == 0
        assert space.cli("endpoint", "list", "--json").stdout.count('"quarantined"') == 0
    finally:
        space.close()
