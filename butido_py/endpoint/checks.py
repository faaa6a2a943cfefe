"""The start-of-build check of the selected endpoints (butido-reference.md §8.2).

Every endpoint is checked at the same time, each with its own `timeout`: reachable, Docker and API
versions when `docker_versions` / `docker_api_versions` are configured, and the build's image
present. The result is the image's id on each endpoint (the digest a job key is made of).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from butido_py.config.model import DockerConfig, EndpointConfig
from butido_py.endpoint.docker import engine_info
from butido_py.endpoint.docker_hosts import image_id
from butido_py.errors import ButidoError, EndpointError


def check_endpoint(endpoint: EndpointConfig, docker: DockerConfig, image: str) -> str:
    """Check one endpoint; returns the image id there. Raises `EndpointError`."""
    info = engine_info(endpoint)
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
        raise EndpointError(
            f"endpoint {endpoint.name!r}: image {image!r} is missing",
            hint="builds never pull images: build or load it on that engine first "
            "(`butido endpoint images list` shows what is there)",
        )
    return found


def check_endpoints(
    endpoints: Sequence[EndpointConfig], docker: DockerConfig, image: str
) -> dict[str, str]:
    """Check all endpoints concurrently; endpoint name → image id. The first failure (in the
    order of `endpoints`) is raised after all checks ended."""
    with ThreadPoolExecutor(max_workers=max(1, len(endpoints))) as pool:
        futures = [pool.submit(check_endpoint, e, docker, image) for e in endpoints]
    digests: dict[str, str] = {}
    for endpoint, future in zip(endpoints, futures, strict=True):
        error = future.exception()
        if isinstance(error, ButidoError):
            raise error
        if error is not None:
            raise EndpointError(f"endpoint {endpoint.name!r}: check failed: {error}") from error
        digests[endpoint.name] = future.result()
    return digests
