"""The Docker engines started by scripts/services are real and reachable through our adapter."""

from __future__ import annotations

import uuid

import pytest

from butido_py.config.model import EndpointConfig
from butido_py.endpoint.docker import engine_info, open_client, ping
from tests.plugins.services import TINY_IMAGE

pytestmark = pytest.mark.docker


def run_tiny(endpoint: EndpointConfig, script: str) -> tuple[int, str, str]:
    """Run `script` in the tiny image with network `none`; return exit code, output, network."""
    name = f"butido-test-{uuid.uuid4()}"
    with open_client(endpoint) as client:
        container = client.containers.create(
            TINY_IMAGE,
            ["/bin/bash", "-c", script],
            name=name,
            network_mode="none",
            labels={"butido.test": "1"},
        )
        try:
            container.start()
            code = int(container.wait(timeout=60)["StatusCode"])
            output = container.logs(stdout=True, stderr=True).decode()
            container.reload()
            network = str(container.attrs["HostConfig"]["NetworkMode"])
        finally:
            container.remove(force=True)
    return code, output, network


def test_ping_answers(docker_endpoint: EndpointConfig) -> None:
    assert ping(docker_endpoint) < 5.0


def test_engine_reports_its_versions(docker_endpoint: EndpointConfig) -> None:
    info = engine_info(docker_endpoint)
    assert info.os == "linux"
    assert info.version[0].isdigit()
    assert info.api_version.split(".")[0] == "1"


def test_tiny_container_runs_without_network_and_output_is_read_back(
    docker_endpoint: EndpointConfig,
) -> None:
    token = uuid.uuid4().hex
    script = f"echo {token}; ls /sys/class/net; echo err >&2; exit 3"
    code, output, network = run_tiny(docker_endpoint, script)
    assert code == 3
    assert network == "none"
    lines = output.split()
    assert token in lines
    # With network "none" the container sees nothing but the loopback interface.
    assert [line for line in lines if line not in (token, "err")] == ["lo"]


def test_tiny_image_has_bash_and_the_tools_scripts_use(docker_endpoint: EndpointConfig) -> None:
    script = (
        "set -e; mkdir -p /outputs; echo hi > /outputs/f; tar -C /outputs -cf /tmp/t.tar f; "
        "sha256sum /outputs/f | cut -c1-64; echo ${BASH_VERSION%%.*}"
    )
    code, output, _ = run_tiny(docker_endpoint, script)
    assert code == 0, output
    digest, bash_major = output.split()
    assert digest == "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4"
    assert int(bash_major) >= 5


def test_second_engine_over_tcp_runs_containers(second_docker_endpoint: EndpointConfig) -> None:
    assert second_docker_endpoint.docker_url.startswith("tcp://127.0.0.1:")
    code, output, network = run_tiny(second_docker_endpoint, "echo second")
    assert (code, output.strip(), network) == (0, "second", "none")


def test_the_two_engines_are_distinct(
    docker_endpoint: EndpointConfig, second_docker_endpoint: EndpointConfig
) -> None:
    with open_client(docker_endpoint) as first, open_client(second_docker_endpoint) as second:
        assert first.info()["DockerRootDir"] != second.info()["DockerRootDir"]
