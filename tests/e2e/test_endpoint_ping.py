"""`butido endpoint [NAME] ping` against the real Docker engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from butido_py.config.model import EndpointConfig
from tests.e2e.conftest import MINIMAL, Runner
from tests.helpers.json_schema import validated

pytestmark = pytest.mark.docker


def write_endpoints(repo: Path, first: EndpointConfig, second: EndpointConfig) -> None:
    (repo / "config.toml").write_text(
        MINIMAL
        + f'[docker.endpoints.one]\nuri = "{first.uri}"\nendpoint_type = "{first.endpoint_type}"\n'
        + "maxjobs = 1\n"
        + f'[docker.endpoints.two]\nuri = "{second.uri}"\nendpoint_type = "http"\nmaxjobs = 1\n'
    )


def test_ping_every_endpoint(
    butido: Runner,
    repo: Path,
    docker_endpoint: EndpointConfig,
    second_docker_endpoint: EndpointConfig,
) -> None:
    write_endpoints(repo, docker_endpoint, second_docker_endpoint)
    result = butido("endpoint", "ping", "-n", "2", "--sleep", "0", "--json")
    assert result.code == 0, result.stderr
    report = validated("endpoint ping", result.stdout)
    assert report["ok"] is True
    assert sorted(report["round_trips"]) == ["one", "two"]
    assert all(len(trips) == 2 for trips in report["round_trips"].values())


def test_ping_one_named_endpoint(
    butido: Runner,
    repo: Path,
    docker_endpoint: EndpointConfig,
    second_docker_endpoint: EndpointConfig,
) -> None:
    write_endpoints(repo, docker_endpoint, second_docker_endpoint)
    result = butido("endpoint", "two", "ping", "-n", "3", "--sleep", "0")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0:2] for line in lines] == [["two", " ping 1/3"], ["two", " ping 2/3"],
                                                         ["two", " ping 3/3"]]  # fmt: skip


def test_implicit_local_endpoint_uses_docker_host(
    butido: Runner, docker_endpoint: EndpointConfig
) -> None:
    result = butido(
        "endpoint", "local", "ping", "-n", "1", env={"DOCKER_HOST": docker_endpoint.uri}
    )
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("local: ping 1/1: ")
