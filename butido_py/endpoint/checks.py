"""The start-of-build check of the selected endpoints (butido-reference.md §8.2).

Every endpoint is checked at the same time, each with its own `timeout`: reachable, Docker and API
versions when `docker_versions` / `docker_api_versions` are configured, and the build's image
present. The result is the image's id on each endpoint (the digest a job key is made of), and
the endpoints that did not answer: a build runs on the others (with a warning) and is refused
only when none answers. An endpoint that answers but is wrong (versions, image) fails the build.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from butido_py.config.model import DockerConfig, EndpointConfig
from butido_py.endpoint.docker import engine_info
from butido_py.endpoint.docker_hosts import image_id
from butido_py.errors import ButidoError, EndpointError


class EndpointDownError(EndpointError):
    """The endpoint's engine did not answer."""


class ImageMissingError(EndpointError):
    """The endpoint answered but has not the build's image (a group refuses that image alone)."""


@dataclass(frozen=True, slots=True)
class EndpointChecks:
    #: endpoint name → the image's id there, for every endpoint that passed, in their order.
    image_ids: dict[str, str]
    #: endpoint name → why it did not answer.
    down: dict[str, EndpointDownError]


def check_endpoint(endpoint: EndpointConfig, docker: DockerConfig, image: str) -> str:
    """Check one endpoint; returns the image id there. Raises `EndpointError`
    (`EndpointDownError` when its engine does not answer)."""
    try:
        info = engine_info(endpoint)
    except EndpointError as error:
        raise EndpointDownError(error.message, hint=error.hint) from error
    if docker.docker_versions and info.version not in docker.docker_versions:
        raise EndpointError(
            f"endpoint {endpoint.name!r}: Docker version {info.version} is not one of "
            f"docker_versions ({', '.join(docker.docker_versions)})",
            hint="update the engine or add its version to `docker_versions` in config.toml",
        )
    if docker.docker_api_versions and info.api_version not in docker.docker_api_versions:
        raise EndpointError(
            f"endpoint {endpoint.name!r}: Docker API version {info.api_version} is not one of "
            f"docker_api_versions ({', '.join(docker.docker_api_versions)})",
            hint="update the engine or add its API version to `docker_api_versions`",
        )
    found = image_id(endpoint, image)
    if found is None:
        raise ImageMissingError(
            f"endpoint {endpoint.name!r}: image {image!r} is missing",
            hint="builds never pull images: build or load it on that engine first "
            "(`butido endpoint images list` shows what is there)",
        )
    return found


def check_endpoints(
    endpoints: Sequence[EndpointConfig], docker: DockerConfig, image: str
) -> EndpointChecks:
    """Check all endpoints concurrently. After all checks ended, the first failure of an
    endpoint that answered (in the order of `endpoints`) is raised, or the first endpoint down
    when none answered."""
    with ThreadPoolExecutor(max_workers=max(1, len(endpoints))) as pool:
        futures = [pool.submit(check_endpoint, e, docker, image) for e in endpoints]
    digests: dict[str, str] = {}
    down: dict[str, EndpointDownError] = {}
    for endpoint, future in zip(endpoints, futures, strict=True):
        error = future.exception()
        if isinstance(error, EndpointDownError):
            down[endpoint.name] = error
            continue
        if isinstance(error, ButidoError):
            raise error
        if error is not None:
            raise EndpointError(f"endpoint {endpoint.name!r}: check failed: {error}") from error
        digests[endpoint.name] = future.result()
    if not digests and down:
        raise next(iter(down.values()))
    return EndpointChecks(digests, down)
