"""Job containers (DESIGN.md §3 "Container contract"): create, fill, start, stream, collect, remove.

`job_container` is a context manager that always removes the container (unless asked to keep it),
whatever happens inside: a failed script, an exception, Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import tarfile
import tempfile
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import IO

import docker
import docker.errors
from docker.api.client import APIClient
from docker.transport.unixconn import UnixHTTPAdapter, UnixHTTPConnectionPool
from requests.exceptions import RequestException
from requests.utils import get_environ_proxies
from urllib3.exceptions import HTTPError as Urllib3Error

from butido_py.config.model import EndpointConfig
from butido_py.endpoint.docker import tls_config, unreachable
from butido_py.endpoint.docker_stream import demultiplex, response_blocks
from butido_py.errors import EndpointError

log = logging.getLogger(__name__)

#: Streams and waits of a job may be silent for a long time; only a dead connection should end them.
JOB_API_TIMEOUT = 24 * 3600
SCRIPT_PATH = "/script"
OUTPUTS_PATH = "/outputs"
#: Bytes per read of the /outputs archive stream.
ARCHIVE_CHUNK = 1 << 20


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


class EngineFailureError(EndpointError):
    """The engine failed or could not be reached while a job used it (not the job's fault): the
    job may be retried on another endpoint (failover)."""


#: What a dying engine or connection raises: the SDK's errors, requests', and urllib3's (a
#: stream read directly from the response, such as a container's output, raises those).
_ENGINE_ERRORS = (docker.errors.DockerException, RequestException, Urllib3Error)


#: Input archives up to this size are built in memory, bigger ones spill to a temporary file.
INPUT_SPOOL_BYTES = 16 * 1024 * 1024


class JobContainer:
    """One created container of a job; every Docker failure becomes an `EndpointError`.

    It talks to the engine's API directly (one request per step): the SDK's container objects
    inspect the container again after creating it, which a job does not need."""

    def __init__(self, endpoint: EndpointConfig, api: APIClient, container_id: str) -> None:
        self.endpoint = endpoint
        self._api = api
        self._id = container_id

    @property
    def id(self) -> str:
        return self._id

    def put_inputs(self, inputs: Iterable[InputFile]) -> None:
        """Every input in one archive, in one `put_archive` request."""
        with tempfile.SpooledTemporaryFile(max_size=INPUT_SPOOL_BYTES) as spool:
            _write_input_tar(spool, inputs)
            spool.seek(0)
            with self._failures("copying the inputs into"):
                self._api.put_archive(self._id, "/", spool)

    def start(self) -> None:
        with self._failures("starting"):
            self._api.start(self._id)

    def output(self) -> Iterator[bytes]:
        """stdout and stderr, merged, as the container produces them (from its start).

        Asked for directly: the SDK's `logs()` inspects the container first to learn whether it
        has a TTY; a job container never has one, so the stream is always multiplexed."""
        url = f"{self._api.base_url}/v{self._api.api_version}/containers/{self._id}/logs"
        params: dict[str, str | int] = {
            "stdout": 1,
            "stderr": 1,
            "follow": 1,
            "timestamps": 0,
            "tail": "all",
        }
        with self._failures("reading the output of"):
            response = self._api.get(url, params=params, stream=True)
            done = False
            try:
                response.raise_for_status()
                yield from demultiplex(response_blocks(response))
                response.raw.release_conn()  # read to its end: the connection can serve again
                done = True
            finally:
                if not done:
                    response.close()

    def wait(self) -> int:
        with self._failures("waiting for"):
            return int(self._api.wait(self._id)["StatusCode"])

    def outputs_archive(self) -> Generator[bytes, None, None]:
        """The tar stream of /outputs; an `EndpointError` when the script left no /outputs.

        Asked for directly, to close the response when the reader stops early (an archive
        refused half-way): the engine holds the container while it streams an archive, so an
        abandoned stream would block the container's removal for good."""
        url = f"{self._api.base_url}/v{self._api.api_version}/containers/{self._id}/archive"
        with self._failures("copying /outputs out of"):
            response = self._api.get(url, params={"path": OUTPUTS_PATH}, stream=True)
        try:
            if response.status_code == HTTPStatus.NOT_FOUND:
                raise EndpointError(
                    f"container {self.id[:12]} on {self.endpoint.name!r}: the script left no "
                    f"{OUTPUTS_PATH} directory",
                    hint="package scripts must `mkdir -p /outputs` and put their artifacts there",
                )
            with self._failures("copying /outputs out of"):
                response.raise_for_status()
                yield from response.iter_content(ARCHIVE_CHUNK)
        finally:
            response.close()

    def stop(self, timeout: int = 1) -> None:
        with self._failures("stopping"):
            self._api.stop(self._id, timeout=timeout)

    @contextmanager
    def _failures(self, doing: str) -> Iterator[None]:
        try:
            yield
        except _ENGINE_ERRORS as exc:
            raise EngineFailureError(
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


#: Containers a build keeps per slot of an endpoint: one running, one being prepared or emptied.
PREPARED_PER_SLOT = 2


class EndpointClients:
    """One Docker client per endpoint, shared by the job threads of a build (each client keeps a
    connection pool big enough for every container of the build on the endpoint, one streaming
    request each, plus the removals)."""

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
        client = docker.DockerClient(
            base_url=endpoint.docker_url,
            tls=tls_config(endpoint) or False,
            timeout=JOB_API_TIMEOUT,
            max_pool_size=PREPARED_PER_SLOT * endpoint.maxjobs + 4,
        )
    except _ENGINE_ERRORS as exc:
        failure = unreachable(endpoint, exc)
        raise EngineFailureError(failure.message, hint=failure.hint) from exc
    _share_unix_connections(client.api)
    _freeze_environment(client.api)
    return client


def _freeze_environment(api: APIClient) -> None:
    """requests reads proxies (a scan of the whole environment), a CA bundle and .netrc from the
    environment on every request, about a quarter of its CPU per request; every request of a
    client goes to the same engine, so proxies and CA bundle are read once here, as requests
    would apply them (an engine's API takes no .netrc credentials). Unlike requests, a CA
    certificate configured for the endpoint (`tls`) wins over REQUESTS_CA_BUNDLE."""
    if not api.trust_env:
        return
    api.proxies.update(get_environ_proxies(api.base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and api.verify is True:
        api.verify = bundle
    api.trust_env = False


class _OnePoolUnixAdapter(UnixHTTPAdapter):
    """The SDK's unix-socket adapter keeps one connection pool per request URL, so a job (whose
    requests all name its container) opened a new connection for nearly every request. All
    requests go to the same socket: one pool serves them all."""

    def get_connection(
        self,
        url: bytes | str,  # noqa: ARG002 - every request shares the pool
        proxies: object = None,
    ) -> UnixHTTPConnectionPool:
        return super().get_connection(UNIX_POOL_KEY, proxies)


UNIX_POOL_KEY = "http+docker://localhost"


def _share_unix_connections(api: APIClient) -> None:
    adapter = api.adapters.get("http+docker://")  # mounted for unix sockets only
    if not isinstance(adapter, UnixHTTPAdapter) or isinstance(adapter, _OnePoolUnixAdapter):
        return
    shared = _OnePoolUnixAdapter(
        f"http+unix://{adapter.socket_path}",
        adapter.timeout,
        max_pool_size=adapter.max_pool_size,
    )
    api.mount("http+docker://", shared)
    adapter.close()
    # Proxies, .netrc and CA bundles from the environment mean nothing on a unix socket, and
    # looking them up costs a scan of the environment per request.
    api.trust_env = False


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
    api = client.api
    try:
        created = api.create_container(
            spec.image,
            list(spec.command),
            name=spec.name,
            labels=dict(spec.labels),
            environment=[f"{key}={value}" for key, value in spec.environment],
            host_config=api.create_host_config(network_mode=spec.network_mode),
        )
    except docker.errors.ImageNotFound as exc:
        raise EngineFailureError(
            f"endpoint {endpoint.name!r}: image {spec.image!r} is not present",
            hint="builds never pull; build or load the image on the endpoint first "
            "(scripts/images shows how)",
        ) from exc
    except _ENGINE_ERRORS as exc:
        raise EngineFailureError(
            f"endpoint {endpoint.name!r}: creating container {spec.name} failed: {exc}",
            hint=f"check the endpoint with `butido endpoint {endpoint.name} ping`",
        ) from exc
    container_id = str(created["Id"])
    job = JobContainer(endpoint, api, container_id)
    try:
        if spec.inputs:
            job.put_inputs(spec.inputs)
        yield job
    finally:
        if not keep:
            if defer_removal is not None:
                defer_removal(lambda: _remove(api, container_id))
            else:
                _remove(api, container_id)


def _remove(api: APIClient, container_id: str) -> None:
    try:
        api.remove_container(container_id, force=True)
    except docker.errors.NotFound:
        return
    except docker.errors.APIError as exc:
        if exc.status_code != 409:  # 409: its removal is already in progress (a cancel's)
            log.warning("could not remove container %s: %s", container_id, exc)
        return
    except _ENGINE_ERRORS as exc:
        # Never mask the job's own outcome; the container is labelled, so maintenance finds it.
        log.warning("could not remove container %s: %s", container_id, exc)
