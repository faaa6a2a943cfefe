"""The Docker adapter: the only module that talks to Docker engines (through the docker SDK)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from butido_py.config.model import EndpointConfig
from butido_py.errors import EndpointError

if TYPE_CHECKING:
    # docker (and requests) are imported when first used: commands that never talk to an
    # engine start faster without them.
    import docker
    import docker.tls


@dataclass(frozen=True, slots=True)
class EngineInfo:
    endpoint: str
    version: str
    api_version: str
    os: str
    kernel: str


def tls_config(endpoint: EndpointConfig) -> docker.tls.TLSConfig | None:
    import docker.tls  # noqa: PLC0415

    if endpoint.tls is None:
        return None
    tls = endpoint.tls
    client_cert = (
        (str(tls.client_cert), str(tls.client_key))
        if tls.client_cert is not None and tls.client_key is not None
        else None
    )
    return docker.tls.TLSConfig(
        client_cert=client_cert,
        ca_cert=str(tls.ca_cert) if tls.ca_cert is not None else None,
        verify=tls.verify,
    )


def unreachable(endpoint: EndpointConfig, reason: object) -> EndpointError:
    return EndpointError(
        f"endpoint {endpoint.name!r} ({endpoint.uri}): Docker engine not reachable: {reason}",
        hint="check that the daemon runs and the uri in config.toml is right "
        "(scripts/services starts a local one)",
    )


@contextmanager
def open_client(
    endpoint: EndpointConfig, *, timeout: int | None = None
) -> Iterator[docker.DockerClient]:
    """A client for `endpoint`. API calls time out after `timeout` seconds, by default the
    endpoint's `timeout` (meant for checks); jobs pass a long one for streams and waits."""
    import docker  # noqa: PLC0415
    import docker.errors  # noqa: PLC0415
    from requests.exceptions import RequestException  # noqa: PLC0415

    try:
        client = docker.DockerClient(
            base_url=endpoint.docker_url,
            tls=tls_config(endpoint) or False,
            timeout=timeout if timeout is not None else endpoint.timeout,
        )
    except (docker.errors.DockerException, RequestException) as exc:
        raise unreachable(endpoint, exc) from exc
    try:
        yield client
    except (docker.errors.DockerException, RequestException) as exc:
        if isinstance(exc, docker.errors.APIError):
            raise EndpointError(f"endpoint {endpoint.name!r}: Docker API error: {exc}") from exc
        raise unreachable(endpoint, exc) from exc
    finally:
        client.close()


def ping(endpoint: EndpointConfig) -> float:
    """Ping the engine once; returns the round trip in seconds."""
    with open_client(endpoint) as client:
        started = time.monotonic()
        client.ping()
        return time.monotonic() - started


def engine_info(endpoint: EndpointConfig) -> EngineInfo:
    with open_client(endpoint) as client:
        version = client.version()
        return EngineInfo(
            endpoint=endpoint.name,
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            os=str(version.get("Os", "?")),
            kernel=str(version.get("KernelVersion", "?")),
        )
