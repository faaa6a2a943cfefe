"""Job containers on the real Docker engine: inputs in, output streamed, /outputs out, removed."""

from __future__ import annotations

import hashlib
import socket
import uuid
from pathlib import Path

import docker
import pytest

from butido_py.config.model import EndpointConfig
from butido_py.endpoint.docker_job import ContainerSpec, EndpointClients, InputFile, job_container
from butido_py.errors import EndpointError
from butido_py.stores.staging import extract_outputs
from tests.plugins.services import TINY_IMAGE

pytestmark = pytest.mark.docker

SCRIPT = b"""#!/bin/bash
set -e
echo "building $PKG"
sha256sum /inputs/src.source | cut -c1-64
mkdir -p /outputs/sub
cp /inputs/src.source /outputs/result.bin
echo done > /outputs/sub/note.txt
echo "#BUTIDO:STATE:OK"
"""


def spec(name: str, script: bytes, inputs: list[InputFile]) -> ContainerSpec:
    return ContainerSpec(
        image=TINY_IMAGE,
        name=name,
        labels={"butido.test": "1", "butido.job": name},
        environment=[("PKG", "demo")],
        inputs=[InputFile("/script", data=script, mode=0o755), *inputs],
    )


def exists(endpoint: EndpointConfig, name: str) -> bool:
    client = docker.DockerClient(base_url=endpoint.docker_url)
    try:
        client.containers.get(name)
    except docker.errors.NotFound:
        return False
    finally:
        client.close()
    return True


def test_job_runs_with_inputs_and_outputs_are_staged(
    docker_endpoint: EndpointConfig, tmp_path: Path
) -> None:
    source = tmp_path / "src.source"
    source.write_bytes(b"source bytes\n" * 1000)
    name = f"butido-test-{uuid.uuid4()}"
    with job_container(
        docker_endpoint, spec(name, SCRIPT, [InputFile("/inputs/src.source", source)])
    ) as job:
        job.start()
        output = b"".join(job.output()).decode()
        code = job.wait()
        staged = extract_outputs(job.outputs_archive(), tmp_path / "staging", job=name)
        assert exists(docker_endpoint, name)
    assert not exists(docker_endpoint, name)
    assert code == 0
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert output.splitlines() == ["building demo", digest, "#BUTIDO:STATE:OK"]
    assert sorted((s.path, s.sha256) for s in staged) == [
        ("result.bin", digest),
        ("sub/note.txt", hashlib.sha256(b"done\n").hexdigest()),
    ]


def test_script_runs_through_its_shebang(docker_endpoint: EndpointConfig) -> None:
    script = b"#!/bin/sh\necho $0 ${BASH_VERSION:-no-bash}\n"
    with job_container(docker_endpoint, spec(f"butido-test-{uuid.uuid4()}", script, [])) as job:
        job.start()
        output = b"".join(job.output()).decode().split()
        assert job.wait() == 0
    assert output == ["/script", "no-bash"]


def test_missing_outputs_directory_is_a_clear_error(docker_endpoint: EndpointConfig) -> None:
    with job_container(
        docker_endpoint, spec(f"butido-test-{uuid.uuid4()}", b"#!/bin/bash\nexit 0\n", [])
    ) as job:
        job.start()
        assert job.wait() == 0
        with pytest.raises(EndpointError, match="the script left no /outputs directory"):
            list(job.outputs_archive())


def test_container_is_removed_when_the_job_raises(docker_endpoint: EndpointConfig) -> None:
    name = f"butido-test-{uuid.uuid4()}"
    seen_while_running = []

    def fail_inside() -> None:
        with job_container(docker_endpoint, spec(name, b"#!/bin/bash\n", [])):
            seen_while_running.append(exists(docker_endpoint, name))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()
    assert seen_while_running == [True]
    assert not exists(docker_endpoint, name)


def test_keep_leaves_the_container(docker_endpoint: EndpointConfig) -> None:
    name = f"butido-test-{uuid.uuid4()}"
    with job_container(docker_endpoint, spec(name, b"#!/bin/bash\n", []), keep=True):
        pass
    assert exists(docker_endpoint, name)
    client = docker.DockerClient(base_url=docker_endpoint.docker_url)
    client.containers.get(name).remove(force=True)
    client.close()


def test_unknown_image_names_endpoint_and_image(docker_endpoint: EndpointConfig) -> None:
    bad = ContainerSpec(
        image="no-such-image:never", name=f"butido-test-{uuid.uuid4()}", labels={}, environment=[]
    )
    with pytest.raises(EndpointError) as info, job_container(docker_endpoint, bad):
        pass
    assert str(info.value) == "endpoint 'primary': image 'no-such-image:never' is not present"


SMALL = b"#!/bin/bash\necho building $PKG\nmkdir -p /outputs\necho x > /outputs/a.pkg\n"


def test_jobs_share_the_endpoints_connections(
    docker_endpoint: EndpointConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not docker_endpoint.uri.startswith("unix://"):
        pytest.skip("the per-URL connection pools are a unix-socket matter")
    opened: list[str] = []
    connect = socket.socket.connect

    def counting(self: socket.socket, address: str) -> None:
        opened.append(address)
        connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", counting)
    clients = EndpointClients()
    try:
        for _ in range(3):
            with job_container(
                docker_endpoint,
                spec(f"butido-test-{uuid.uuid4()}", SMALL, []),
                clients=clients,
            ) as job:
                job.start()
                assert b"building demo" in b"".join(job.output())
                assert job.wait() == 0
                assert b"a.pkg" in b"".join(job.outputs_archive())
    finally:
        clients.close()
    # 3 jobs x 7 requests; the SDK alone opened a connection for nearly each of them.
    assert len(opened) <= 3
