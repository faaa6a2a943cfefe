"""`butido endpoint …` maintenance against the real Docker engine: only butido's containers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from butido_py.config.model import EndpointConfig
from butido_py.errors import ExitCode
from tests.e2e.conftest import MINIMAL, Runner
from tests.helpers.json_schema import validated
from tests.plugins.services import TINY_IMAGE

pytestmark = pytest.mark.docker


@pytest.fixture
def client(docker_endpoint: EndpointConfig) -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(base_url=docker_endpoint.docker_url)
    yield client
    client.close()


@pytest.fixture
def configured(repo: Path, docker_endpoint: EndpointConfig, butido: Runner) -> Path:
    (repo / "config.toml").write_text(
        MINIMAL
        + '[docker]\nimages = [{ name = "butido-tiny:latest", short_name = "tiny" }, '
        + '{ name = "not-there:1", short_name = "nt" }]\n'
        + f'[docker.endpoints.one]\nuri = "{docker_endpoint.uri}"\nendpoint_type = "socket"\n'
        + "maxjobs = 1\n"
    )
    # prune and stop ask the database whose containers they are.
    assert butido("db", "setup").code == 0
    return repo


@pytest.fixture
def containers(client: docker.DockerClient) -> Iterator[dict[str, Container]]:
    """A running and an exited butido container, and a running and exited foreign one."""
    tag = uuid.uuid4().hex[:8]
    made: dict[str, Container] = {}
    for kind in ("butido-running", "butido-exited", "foreign-running", "foreign-exited"):
        labels = {"butido.job": str(uuid.uuid4()), "butido.package": "p", "butido.version": "1"}
        command = ["sleep", "300"] if kind.endswith("running") else ["true"]
        container = client.containers.create(
            TINY_IMAGE, command, name=f"test-{kind}-{tag}", network_mode="none",
            labels=labels if kind.startswith("butido") else {"other": "x"},
        )  # fmt: skip
        container.start()
        if kind.endswith("exited"):
            container.wait(timeout=30)
        made[kind] = container
    yield made
    for container in made.values():
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            continue


def ids(output: str) -> set[str]:
    """The short ids of the containers `endpoint containers list --json` printed."""
    return {row["container"][:12] for row in validated("endpoint containers list", output)}


def short(container: Container) -> str:
    return str(container.id)[:12]


def exists(client: docker.DockerClient, container: Container) -> bool:
    try:
        client.containers.get(str(container.id))
    except docker.errors.NotFound:
        return False
    return True


def test_list_shows_only_butido_containers(
    butido: Runner, configured: Path, containers: dict[str, Container]
) -> None:
    running = butido("endpoint", "containers", "list", "--json")
    assert running.code == 0, running.stderr
    assert short(containers["butido-running"]) in ids(running.stdout)
    assert not ids(running.stdout) & {
        short(c) for k, c in containers.items() if k != "butido-running"
    }
    stopped = butido("endpoint", "one", "containers", "list", "--list-stopped", "--json")
    listed = ids(stopped.stdout)
    assert {short(containers["butido-running"]), short(containers["butido-exited"])} <= listed
    assert short(containers["foreign-exited"]) not in listed
    everything = ids(
        butido("endpoint", "containers", "list", "--list-stopped", "--all", "--json").stdout
    )
    assert {short(c) for c in containers.values()} <= everything
    # -I takes a configured short name, as build -I does.
    by_short = butido("endpoint", "containers", "list", "-I", "tiny", "--json")
    assert by_short.code == 0, by_short.stderr
    assert short(containers["butido-running"]) in ids(by_short.stdout)
    mine = {short(c) for c in containers.values()}  # other builds may run on the engine
    assert ids(by_short.stdout) & mine == mine & ids(
        butido("endpoint", "containers", "list", "-I", TINY_IMAGE, "--json").stdout
    )
    assert ids(butido("endpoint", "containers", "list", "-I", "nt", "--json").stdout) == set()


def test_prune_leaves_containers_of_submits_this_database_does_not_know(
    butido: Runner, configured: Path, containers: dict[str, Container], client: docker.DockerClient
) -> None:
    # The test's butido containers carry no submit this database knows: another database's
    # builds on a shared engine, as far as prune can tell.
    result = butido("endpoint", "containers", "prune", "--yes")
    assert result.code == 0, result.stderr
    assert "stopped container(s): their submit is not in this database" in result.stdout
    assert short(containers["butido-exited"]) not in result.stdout
    for kind in ("butido-exited", "butido-running", "foreign-running", "foreign-exited"):
        assert exists(client, containers[kind]), kind


def test_prune_without_yes_and_without_terminal_refuses(
    butido: Runner, configured: Path, containers: dict[str, Container], client: docker.DockerClient
) -> None:
    # --all chooses the test's exited containers; unconfirmed, nothing is removed.
    result = butido("endpoint", "containers", "prune", "--all")
    assert result.code == ExitCode.FAILURE
    assert "Not confirmed: stdin is not a terminal" in result.stderr
    assert "hint: pass --yes" in result.stderr
    assert exists(client, containers["butido-exited"])


def test_stop_leaves_containers_of_submits_this_database_does_not_know(
    butido: Runner, configured: Path, containers: dict[str, Container]
) -> None:
    result = butido("endpoint", "containers", "stop", "--timeout", "0", "--yes")
    assert result.code == 0, result.stderr
    assert "running container(s): their submit is not in this database" in result.stdout
    for kind, container in containers.items():
        container.reload()
        expected = "running" if kind.endswith("running") else "exited"
        assert container.status == expected, kind


def test_time_filters_and_top_limit(
    butido: Runner, configured: Path, containers: dict[str, Container]
) -> None:
    mine = short(containers["butido-running"])
    listed = butido("endpoint", "containers", "list", "--newer-than", "10min", "--json")
    assert mine in ids(listed.stdout)
    older = butido("endpoint", "containers", "list", "--older-than", "10min", "--json")
    assert mine not in ids(older.stdout)
    top = butido("endpoint", "containers", "top", "--limit", "1", "--json")
    assert top.code == 0, top.stderr
    assert len({row["container"] for row in validated("endpoint containers top", top.stdout)}) <= 1


def test_single_container_commands(
    butido: Runner, configured: Path, containers: dict[str, Container], client: docker.DockerClient
) -> None:
    mine = short(containers["butido-running"])
    inspected = butido("endpoint", "container", mine, "inspect")
    assert json.loads(inspected.stdout)["Id"] == containers["butido-running"].id
    top = butido("endpoint", "container", mine, "top", "--json")
    assert any(
        "sleep" in json.dumps(row) for row in validated("endpoint container top", top.stdout)
    )
    ran = butido("endpoint", "container", mine, "exec", "sh", "-c", "echo hi; exit 4")
    assert (ran.code, ran.stdout) == (4, "hi\n")
    foreign = butido("endpoint", "container", short(containers["foreign-running"]), "kill", "--yes")
    assert foreign.code == ExitCode.ENDPOINT
    assert "was not started by butido" in foreign.stderr
    killed = butido("endpoint", "container", mine, "kill", "--yes")
    assert killed.code == 0, killed.stderr
    containers["butido-running"].reload()
    assert containers["butido-running"].status == "exited"
    deleted = butido("endpoint", "container", mine, "delete", "--yes")
    assert deleted.code == 0
    assert not exists(client, containers["butido-running"])
    missing = butido("endpoint", "container", "no-such-container", "inspect")
    assert missing.code == ExitCode.ENDPOINT
    assert "no container 'no-such-container'" in missing.stderr


def test_images_verify_present_reports_the_missing_image(butido: Runner, configured: Path) -> None:
    result = butido("endpoint", "images", "verify-present", "--csv", "--header")
    as_json = butido("endpoint", "images", "verify-present", "--json").stdout
    assert validated("endpoint images verify-present", as_json)[-1]["state"] == "missing"
    assert result.code == ExitCode.ENDPOINT
    assert result.stdout.splitlines() == [
        "Endpoint,Image,State",
        "one,butido-tiny:latest,found",
        "one,not-there:1,missing",
    ]
    assert result.stderr.splitlines()[0] == "error: 1 image(s) missing: not-there:1 on one"


def test_stats_and_images_list(butido: Runner, configured: Path) -> None:
    stats = validated("endpoint stats", butido("endpoint", "stats", "--json").stdout)
    assert [row["name"] for row in stats] == ["one"]
    assert int(stats[0]["cores"]) >= 1
    images = validated(
        "endpoint images list", butido("endpoint", "images", "list", "--json").stdout
    )
    assert any("butido-tiny:latest" in row["tags"] for row in images)
