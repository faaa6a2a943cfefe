"""Several butido processes on one engine: maintenance never touches a running build's containers,
and a build runs on the endpoints that answer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from butido_py.config.model import EndpointConfig
from butido_py.db import submits as db_submits
from butido_py.endpoint.docker_hosts import submit_containers
from butido_py.states import SubmitState
from tests.e2e.test_build import wait_for_running_container
from tests.helpers.workspace import Workspace, make_workspace

pytestmark = pytest.mark.docker

SLEEPER = '{{phase "build"}}\nsleep 5\nmkdir -p /outputs\necho done > /outputs/sleeper-1.pkg'


@pytest.fixture
def space(tmp_path: Path, docker_endpoint: EndpointConfig) -> Iterator[Workspace]:
    workspace = make_workspace(
        tmp_path, [replace(docker_endpoint, maxjobs=2)], f"sqlite:///{tmp_path / 'e2e.sqlite'}"
    )
    yield workspace
    workspace.close()


def test_prune_and_stop_during_a_build_of_another_process_leave_its_containers(
    space: Workspace, docker_endpoint: EndpointConfig
) -> None:
    space.add_package("sleeper", build=SLEEPER)
    space.commit()
    process = space.popen("build", "sleeper", "1", "-I", "tiny")
    try:
        submit = wait_for_running_container(docker_endpoint, "sleeper")
        (container,) = submit_containers(docker_endpoint, submit)
        pruned = space.cli("endpoint", "containers", "prune", "--yes")
        stopped = space.cli("endpoint", "containers", "stop", "--timeout", "0", "--yes")
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert pruned.code == 0, pruned.stderr
    assert stopped.code == 0, stopped.stderr
    assert container[:12] not in pruned.stdout + stopped.stdout
    assert "running container(s): their submit is running (a live build)" in stopped.stdout
    assert process.returncode == 0, stderr


def test_prune_removes_the_containers_of_a_finished_submit(
    space: Workspace, docker_endpoint: EndpointConfig
) -> None:
    space.add_package("quick", build='{{phase "build"}}\nmkdir -p /outputs\necho q > /outputs/q')
    space.commit()
    done = space.cli("build", "quick", "1", "-I", "tiny", "--keep-containers")
    assert done.code == 0, done.stderr
    (record,) = db_submits.list_submits(space.database(), db_submits.SubmitFilter())
    (container,) = submit_containers(docker_endpoint, str(record.uuid))
    pruned = space.cli("endpoint", "containers", "prune", "--yes")
    assert pruned.code == 0, pruned.stderr
    assert f"removed {docker_endpoint.name} {container[:12]}" in pruned.stdout
    assert submit_containers(docker_endpoint, str(record.uuid)) == []


def test_a_build_runs_on_the_endpoints_that_answer(
    space: Workspace, docker_endpoint: EndpointConfig
) -> None:
    config = space.root / "config.toml"
    config.write_text(
        config.read_text()
        + '\n[docker.endpoints.down]\nuri = "tcp://127.0.0.1:9"\nendpoint_type = "http"\n'
        "maxjobs = 1\ntimeout = 2\n"
    )
    space.add_package("quick", build='{{phase "build"}}\nmkdir -p /outputs\necho q > /outputs/q')
    space.commit()
    done = space.cli("build", "quick", "1", "-I", "tiny")
    assert done.code == 0, done.stderr
    assert "endpoint 'down' is left out of this build: endpoint 'down' (tcp://127.0.0.1:9)" in (
        done.stderr
    )
    (record,) = db_submits.list_submits(space.database(), db_submits.SubmitFilter())
    assert record.state is SubmitState.SUCCEEDED
