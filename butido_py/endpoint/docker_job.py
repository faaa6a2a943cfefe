"""Job containers (DESIGN.md §3 "Container contract"): create, fill, start, stream, collect, remove.

`job_container` is a context manager that always removes the container (unless asked to keep it),
whatever happens inside: a failed script, an exception, Ctrl-C.
"""

from __future__ import annotations

import logging
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import docker
import docker.errors
from docker.models.containers import Container
from requests.exceptions import RequestException

from butido_py.config.model import EndpointConfig
from butido_py.endpoint.docker import tls_config, unreachable
from butido_py.errors import EndpointError

log = logging.getLogger(__name__)

#: Streams and waits of a job may be silent for a long time; only a dead connection should end them.
JOB_API_TIMEOUT = 24 * 3600
SCRIPT_PATH = "/script"
OUTPUTS_PATH = "/outputs"


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file to place into the container before it starts: from disk or from memory."""

    container_path: str  # absolute, e.g. /inputs/src.source
    source: Path | None = None
    data: bytes | None = None
    mode: int = 0o644


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    image: str
    name: str
    labels: Mapping[str, str]
    environment: Sequence[tuple[str, str]]
    network_mode: str = "none"
    command: Sequence[str] = (SCRIPT_PATH,)
    inputs: Sequence[InputFile] = field(default_factory=tuple)


class JobContainer:
    """One created container of a job; every Docker failure becomes an `EndpointError`."""

    def __init__(self, endpoint: EndpointConfig, container: Container) -> None:
        self.endpoint = endpoint
        self._container = container

    @property
    def id(self) -> str:
        return str(self._container.id)

    def put_inputs(self, inputs: Iterable[InputFile]) -> None:
        with tempfile.TemporaryFile() as spool:
            _write_input_tar(spool, inputs)
            spool.seek(0)
            with self._failures("copying the inputs into"):
                self._container.put_archive("/", spool)

    def start(self) -> None:
        with self._failures("starting"):
            self._container.start()

    def output(self) -> Iterator[bytes]:
        """stdout and stderr, merged, as the container produces them (from its start)."""
        with self._failures("reading the output of"):
            yield from self._container.logs(stdout=True, stderr=True, stream=True, follow=True)

    def wait(self) -> int:
        with self._failures("waiting for"):
            return int(self._container.wait()["StatusCode"])

    def outputs_archive(self) -> Iterator[bytes]:
        """The tar stream of /outputs; an `EndpointError` when the script left no /outputs."""
        try:
            stream, _ = self._container.get_archive(OUTPUTS_PATH)
        except docker.errors.NotFound as exc:
            raise EndpointError(
                f"container {self.id[:12]} on {self.endpoint.name!r}: the script left no "
                f"{OUTPUTS_PATH} directory",
                hint="package scripts must `mkdir -p /outputs` and put their artifacts there",
            ) from exc
        with self._failures("copying /outputs out of"):
            yield from stream

    def stop(self, timeout: int = 1) -> None:
        with self._failures("stopping"):
            self._container.stop(timeout=timeout)

    @contextmanager
    def _failures(self, doing: str) -> Iterator[None]:
        try:
            yield
        except (docker.errors.DockerException, RequestException) as exc:
            raise EndpointError(
                f"endpoint {self.endpoint.name!r}: {doing} container {self.id[:12]} failed: {exc}",
                hint=f"check the endpoint with `butido endpoint {self.endpoint.name} ping`",
            ) from exc


def _write_input_tar(spool: IO[bytes], inputs: Iterable[InputFile]) -> None:
    with tarfile.open(fileobj=spool, mode="w") as archive:
        for item in inputs:
            info = tarfile.TarInfo(item.container_path.lstrip("/"))
            info.mode = item.mode
            if item.source is not None:
                info.size = item.source.stat().st_size
                with item.source.open("rb") as handle:
                    archive.addfile(info, handle)
            else:
                data = item.data or b""
                info.size = len(data)
                archive.addfile(info, _BytesReader(data))


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._offset + size
        chunk = self._data[self._offset : end].tobytes()
        self._offset += len(chunk)
        return chunk


Defer = Callable[[Callable[[], None]], None]


class EndpointClients:
    """One Docker client per endpoint, shared by the job threads of a build (each client keeps a
    connection pool big enough for `maxjobs` streaming jobs)."""

    def __init__(self) -> None:
        self._clients: dict[str, docker.DockerClient] = {}
        self._lock = threading.Lock()

    def get(self, endpoint: EndpointConfig) -> docker.DockerClient:
        with self._lock:
            client = self._clients.get(endpoint.name)
            if client is None:
                client = open_job_client(endpoint)
                self._clients[endpoint.name] = client
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


def open_job_client(endpoint: EndpointConfig) -> docker.DockerClient:
    try:
        return docker.DockerClient(
            base_url=endpoint.docker_url,
            tls=tls_config(endpoint) or False,
            timeout=JOB_API_TIMEOUT,
            max_pool_size=2 * endpoint.maxjobs + 4,
        )
    except (docker.errors.DockerException, RequestException) as exc:
        raise unreachable(endpoint, exc) from exc


@contextmanager
def job_container(
    endpoint: EndpointConfig,
    spec: ContainerSpec,
    *,
    keep: bool = False,
    clients: EndpointClients | None = None,
    defer_removal: Defer | None = None,
) -> Iterator[JobContainer]:
    """Create the job's container with its inputs; remove it on the way out unless `keep`.

    With `clients`, the endpoint's shared client is used; with `defer_removal`, the removal is
    handed to that function (e.g. a clean-up thread) instead of delaying the caller.
    """
    if clients is not None:
        yield from _job_container(clients.get(endpoint), endpoint, spec, keep, defer_removal)
        return
    client = open_job_client(endpoint)
    try:
        yield from _job_container(client, endpoint, spec, keep, defer_removal)
    finally:
        client.close()


def _job_container(
    client: docker.DockerClient,
    endpoint: EndpointConfig,
    spec: ContainerSpec,
    keep: bool,
    defer_removal: Defer | None,
) -> Iterator[JobContainer]:
    try:
        container = client.containers.create(
            spec.image,
            list(spec.command),
            name=spec.name,
            labels=dict(spec.labels),
            environment=[f"{key}={value}" for key, value in spec.environment],
            network_mode=spec.network_mode,
        )
    except docker.errors.ImageNotFound as exc:
        raise EndpointError(
            f"endpoint {endpoint.name!r}: image {spec.image!r} is not present",
            hint="builds never pull; build or load the image on the endpoint first "
            "(scripts/images shows how)",
        ) from exc
    except (docker.errors.DockerException, RequestException) as exc:
        raise EndpointError(
            f"endpoint {endpoint.name!r}: creating container {spec.name} failed: {exc}",
            hint=f"check the endpoint with `butido endpoint {endpoint.name} ping`",
        ) from exc
    job = JobContainer(endpoint, container)
    try:
        if spec.inputs:
            job.put_inputs(spec.inputs)
        yield job
    finally:
        if not keep:
            if defer_removal is not None:
                defer_removal(lambda: _remove(container))
            else:
                _remove(container)


def _remove(container: Container) -> None:
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        return
    except (docker.errors.DockerException, RequestException) as exc:
        # Never mask the job's own outcome; the container is labelled, so maintenance finds it.
        log.warning("could not remove container %s: %s", container.id, exc)
