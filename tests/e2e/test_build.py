"""`butido build` end to end: the real command, the real Docker engine, SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import docker
import pytest

from butido_py.config.model import EndpointConfig
from butido_py.db import artifacts as db_artifacts
from butido_py.db import jobs as db_jobs
from butido_py.db import logs as db_logs
from butido_py.db import submits as db_submits
from butido_py.db.attempts import attempts_of_job
from butido_py.endpoint.docker_hosts import submit_containers
from butido_py.errors import ExitCode
from butido_py.states import FailureKind, JobState, SubmitState
from tests.helpers.databases import fresh_database_url
from tests.helpers.json_schema import validated
from tests.helpers.workspace import Workspace, make_workspace

pytestmark = pytest.mark.docker

#: desktop 1.0 with -E WITH_DOCS: the 18 packages of the tree plus docs-extra.
DESKTOP_JOBS = 19


@pytest.fixture
def space(tmp_path: Path, docker_endpoint: EndpointConfig) -> Iterator[Workspace]:
    workspace = make_workspace(
        tmp_path, [replace(docker_endpoint, maxjobs=2)], f"sqlite:///{tmp_path / 'e2e.sqlite'}"
    )
    yield workspace
    workspace.close()


@pytest.fixture
def pg_space(
    tmp_path: Path, docker_endpoint: EndpointConfig, postgres_url: str
) -> Iterator[Workspace]:
    with fresh_database_url("postgresql", tmp_path, postgres_url) as url:
        workspace = make_workspace(tmp_path, [replace(docker_endpoint, maxjobs=2)], url)
        yield workspace
        workspace.close()


def staged(space: Workspace, submit: str) -> dict[str, bytes]:
    directory = space.data / "staging" / submit
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def test_template_top_package_is_built_recorded_and_then_reused(space: Workspace) -> None:
    done = space.cli("build", "desktop", "1.0", "-I", "tiny", "-E", "WITH_DOCS=yes", "--json")
    assert done.code == 0, done.stderr
    summary = validated("build", done.stdout)
    assert summary["state"] == "succeeded"
    assert len(summary["jobs"]) == DESKTOP_JOBS
    files = staged(space, summary["submit"])
    assert len(files) == DESKTOP_JOBS
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    for job in summary["jobs"]:
        content = files[f"{job['package']}-{job['version']}.pkg"].decode()
        assert content.startswith(f"package {job['package']} {job['version']}\n")
        for line in content.splitlines():
            if line.startswith("input "):  # every input artifact is the staged one
                name, digest = line.split()[1:]
                assert digest == f"sha256:{digests[name]}"
    desktop = files["desktop-1.0.pkg"].decode()
    assert desktop.count("\ninput ") == DESKTOP_JOBS - 1  # all transitive dependencies
    assert "docs-extra-1.0.pkg" in desktop
    check_recorded(space, summary["submit"], digests)

    again = space.cli("build", "desktop", "1.0", "-I", "tiny", "-E", "WITH_DOCS=yes", "--json")
    assert again.code == 0, again.stderr
    reused = json.loads(again.stdout)
    assert {job["state"] for job in reused["jobs"]} == {"reused"}
    first_jobs = {job["package"]: job["uuid"] for job in summary["jobs"]}
    assert {j["package"]: j["reused_from"] for j in reused["jobs"]} == first_jobs
    assert all(job["container"] is None for job in reused["jobs"])


def check_recorded(space: Workspace, submit_uuid: str, digests: dict[str, str]) -> None:
    db = space.database()
    submit = next(s for s in db_submits.list_submits(db, db_submits.SubmitFilter()))
    assert str(submit.uuid) == submit_uuid
    assert submit.state is SubmitState.SUCCEEDED
    assert submit.finished_at is not None
    assert db_submits.submit_env(db, submit.id) == (("WITH_DOCS", "yes"),)
    jobs, edges = db_jobs.jobs_of_submit(db, submit.id)
    assert len(jobs) == DESKTOP_JOBS
    assert len(edges) > DESKTOP_JOBS
    for job in jobs:
        assert job.state is JobState.SUCCEEDED
        assert job.endpoint == "primary"
        assert job.container_hash
        assert (job.image_digest or "").startswith("sha256:")
        assert job.started_at is not None
        assert job.finished_at is not None
        detail = db_jobs.find_job_detail(db, job.uuid)
        assert detail is not None
        assert detail.script_text.startswith("#!/bin/bash\n")
        assert (db_logs.read_log_bytes(db, job.uuid) or b"").endswith(b"#BUTIDO:STATE:OK\n")
        env = dict(detail.env)
        assert env["WITH_DOCS"] == "yes"
        assert env["GIT_COMMIT_HASH"] == submit.commit_hash
        assert submit.commit_time is not None
        assert env["SOURCE_DATE_EPOCH"] == str(int(submit.commit_time.timestamp()))
        (artifact,) = db_artifacts.list_artifacts(db, job_uuid=job.uuid)
        assert artifact.sha256 == digests[artifact.path]
    libc = next(j for j in jobs if j.package_name == "libc")
    libc_detail = db_jobs.find_job_detail(db, libc.uuid)
    assert libc_detail is not None
    assert "BUILD_FLAVOUR" in dict(libc_detail.env)
    desktop = next(j for j in jobs if j.package_name == "desktop")
    assert len(db_artifacts.input_artifacts(db, desktop.uuid)) == DESKTOP_JOBS - 1


@pytest.mark.postgres
def test_failed_job_report_and_states_on_postgresql(pg_space: Workspace) -> None:
    (pg_space.data / "sources" / "freetype-2.13.2" / "src.source").write_text("tampered\n")
    done = pg_space.cli("build", "cairo", "1.18.0", "-I", "tiny", "--no-verify")
    assert done.code == 1, done.stderr
    db = pg_space.database()
    (submit,) = db_submits.list_submits(db, db_submits.SubmitFilter())
    assert submit.state is SubmitState.FAILED
    jobs = {j.package_name: j for j in db_jobs.jobs_of_submit(db, submit.id)[0]}
    assert jobs["freetype"].state is JobState.FAILED
    assert jobs["fontconfig"].state is JobState.DEP_FAILED
    assert jobs["cairo"].state is JobState.DEP_FAILED
    for independent in ("pixman", "expat", "libpng", "zlib", "libc"):
        assert jobs[independent].state is JobState.SUCCEEDED
    failed = str(jobs["freetype"].uuid)
    assert f"[ERROR] freetype 2.13.2: job {failed} failed in phase 'sourcecheck'" in done.stdout
    assert "Source hash mismatch" in done.stdout
    assert f"Last 3 lines of job {failed}:" in done.stdout  # the whole log: it is shorter
    assert "| #BUTIDO:STATE:ERR:Source hash mismatch" in done.stdout
    assert f"butido db log-of {failed}" in done.stdout
    assert "Traceback" not in done.stderr
    # Not a terminal: one line per event on stderr.
    assert "started   freetype 2.13.2 on primary (" in done.stderr
    assert "phase     freetype 2.13.2: sourcecheck" in done.stderr
    assert "failed    freetype 2.13.2 [" in done.stderr
    assert "dep_failed cairo 1.18.0 [" in done.stderr


@pytest.mark.parametrize(
    ("signum", "code", "message"),
    [
        (signal.SIGINT, 130, "Ctrl-C: canceling the build"),
        (signal.SIGTERM, 143, "SIGTERM: canceling the build"),
        (signal.SIGHUP, 129, "SIGHUP: canceling the build"),
    ],
)
def test_a_signal_cancels_the_build(
    space: Workspace, docker_endpoint: EndpointConfig, signum: int, code: int, message: str
) -> None:
    space.add_package("sleeper", build='{{phase "build"}}\nsleep 300')
    space.add_package("top", depends=["sleeper 1"])
    space.commit()
    process = space.popen("build", "top", "1", "-I", "tiny")
    try:
        submit = wait_for_running_container(docker_endpoint, "sleeper")
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code, stderr
    assert message in stderr
    assert submit_containers(docker_endpoint, submit) == []
    db = space.database()
    (record,) = db_submits.list_submits(db, db_submits.SubmitFilter())
    assert record.state is SubmitState.CANCELED
    jobs, _ = db_jobs.jobs_of_submit(db, record.id)
    assert {j.state for j in jobs} == {JobState.CANCELED}


def test_a_signal_during_the_checks_stops_at_once_and_records_nothing(space: Workspace) -> None:
    # An endpoint that accepts connections and never answers keeps the endpoint check waiting.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        config = space.root / "config.toml"
        config.write_text(
            config.read_text() + f'\n[docker.endpoints.silent]\nuri = "tcp://127.0.0.1:{port}"\n'
            'endpoint_type = "http"\nmaxjobs = 1\ntimeout = 60\n'
        )
        process = space.popen("build", "hello", "2.12.1", "-I", "tiny")
        try:
            time.sleep(4)  # started, and waiting for the silent endpoint
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
    assert time.monotonic() - started < 20  # not the endpoint's 60 s
    assert process.returncode == 143, stderr
    assert "SIGTERM: stopped before the build started: nothing was recorded" in stderr
    assert "Traceback" not in stderr
    assert db_submits.list_submits(space.database(), db_submits.SubmitFilter()) == []


def test_a_job_past_its_timeout_fails_with_kind_timeout(
    space: Workspace, docker_endpoint: EndpointConfig
) -> None:
    space.add_package("sleeper", build='{{phase "build"}}\nsleep 30')
    space.add_package("top", depends=["sleeper 1"])
    space.commit()
    started = time.monotonic()
    done = space.cli("build", "top", "1", "-I", "tiny", "--timeout", "2s")
    elapsed = time.monotonic() - started
    assert done.code == 1, done.stderr
    assert elapsed < 25, elapsed  # the sleep is 30 s: the job was stopped long before
    db = space.database()
    (record,) = db_submits.list_submits(db, db_submits.SubmitFilter())
    assert record.state is SubmitState.FAILED
    jobs = {j.package_name: j for j in db_jobs.jobs_of_submit(db, record.id)[0]}
    assert jobs["sleeper"].state is JobState.FAILED
    assert jobs["sleeper"].failure_kind is FailureKind.TIMEOUT
    assert jobs["top"].state is JobState.DEP_FAILED
    assert "ran longer than its timeout of 2 s" in done.stdout
    assert submit_containers(docker_endpoint, str(record.uuid)) == []
    (attempt,) = attempts_of_job(db, jobs["sleeper"].uuid)  # not retried elsewhere
    assert attempt.failure_kind is FailureKind.TIMEOUT


def wait_for_running_container(endpoint: EndpointConfig, package: str) -> str:
    """The submit uuid of the running container of `package` (waits for it)."""
    client = docker.DockerClient(base_url=endpoint.docker_url)
    try:
        for _ in range(600):
            found = client.containers.list(filters={"label": f"butido.package={package}"})
            if found:
                return str(found[0].labels["butido.submit"])
            time.sleep(0.1)
    finally:
        client.close()
    pytest.fail(f"no running container for {package}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-I", "missing"), "endpoint 'primary': image 'butido-missing:latest' is missing"),
        (
            ("-I", "tiny", "-E", "NOT_ALLOWED=1"),
            "environment variable name not allowed: NOT_ALLOWED",
        ),
        (("-I", "nope"), "unknown image 'nope'"),
        (
            ("-I", "tiny", "--endpoint", "down"),
            "endpoint 'down' (tcp://127.0.0.1:9): Docker engine",
        ),
    ],
)
def test_checks_fail_before_anything_is_written(
    space: Workspace, args: tuple[str, ...], message: str
) -> None:
    config = space.root / "config.toml"
    config.write_text(
        config.read_text()
        + '\n[docker.endpoints.down]\nuri = "tcp://127.0.0.1:9"\nendpoint_type = "http"\n'
        "maxjobs = 1\ntimeout = 2\n"
    )
    done = space.cli("build", "hello", "2.12.1", *args)
    assert done.code != 0
    assert done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert message in errors[0]
    assert "hint:" in done.stderr
    assert db_submits.list_submits(space.database(), db_submits.SubmitFilter()) == []
    assert not (space.data / "staging").exists()


def test_disabled_endpoints_receive_no_job(
    tmp_path: Path, docker_endpoint: EndpointConfig, second_docker_endpoint: EndpointConfig
) -> None:
    endpoints = [replace(docker_endpoint, maxjobs=1), replace(second_docker_endpoint, maxjobs=1)]
    space = make_workspace(tmp_path, endpoints, f"sqlite:///{tmp_path / 'off.sqlite'}")
    leaves = [f"leaf{i}" for i in range(4)]
    for leaf in leaves:  # while one endpoint sleeps, the other has the free slot
        space.add_package(
            leaf,
            build=f'{{{{phase "build"}}}}\nsleep 0.5\nmkdir -p /outputs\n'
            f'echo "package {leaf} 1" > /outputs/{leaf}-1.pkg',
        )
    space.add_package("fan", depends=[f"{leaf} 1" for leaf in leaves])
    space.commit()

    def endpoints_used(*args: str) -> set[str | None]:
        done = space.cli("build", "fan", "1", "-I", "tiny", "--no-reuse", "--json", *args)
        assert done.code == 0, done.stderr
        return {job["endpoint"] for job in json.loads(done.stdout)["jobs"]}

    try:
        assert space.cli("endpoint", "disable", "secondary").code == 0
        assert endpoints_used() == {"primary"}
        pinned = space.cli("build", "fan", "1", "-I", "tiny", "--endpoint", "secondary")
        assert pinned.code == ExitCode.ENDPOINT
        assert errors(pinned.stderr) == ["error: endpoint 'secondary' is disabled"]
        assert "hint: butido endpoint enable secondary" in pinned.stderr
        assert space.cli("endpoint", "disable", "primary").code == 0
        none = space.cli("build", "fan", "1", "-I", "tiny")
        assert none.code == ExitCode.ENDPOINT
        assert errors(none.stderr) == [
            "error: every endpoint is disabled (primary, secondary): no job can run"
        ]
        assert "hint: butido endpoint enable primary" in none.stderr
        assert space.cli("endpoint", "enable", "secondary").code == 0
        assert endpoints_used() == {"secondary"}
        assert space.cli("endpoint", "enable", "primary").code == 0
        assert endpoints_used() == {"primary", "secondary"}
        db = space.database()
        submits = db_submits.list_submits(db, db_submits.SubmitFilter())
        assert len(submits) == 3  # the refused builds recorded nothing
    finally:
        space.close()


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]
