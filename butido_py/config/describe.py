"""The effective configuration as (dotted key, value) pairs, for `butido config show`."""

from __future__ import annotations

from pathlib import Path

from butido_py.config.model import Config, EndpointConfig
from butido_py.config.settings import ENDPOINT, TOP_LEVEL, ValueKind

SECRET_KEYS = frozenset({"database_password"})


def describe_config(config: Config) -> list[tuple[str, object]]:
    items: list[tuple[str, object]] = []
    for setting in TOP_LEVEL:
        if setting.kind is ValueKind.TABLE:
            continue
        if setting.key.startswith("database_"):
            attribute = setting.key.removeprefix("database_")
            value = getattr(config.database, attribute)
        else:
            value = getattr(config, setting.key)
        if setting.key in SECRET_KEYS and value is not None:
            value = "***"
        items.append((setting.key, _plain(value)))
    docker = config.docker
    items.append(("docker.docker_versions", _plain(docker.docker_versions)))
    items.append(("docker.docker_api_versions", _plain(docker.docker_api_versions)))
    for index, image in enumerate(docker.images):
        items.append((f"docker.images.{index}.name", image.name))
        items.append((f"docker.images.{index}.short_name", image.short_name))
    for endpoint in docker.endpoints:
        items.extend(_describe_endpoint(endpoint))
    items.append(("docker.job_attempts", docker.job_attempts))
    items.append(("docker.quarantine_after", docker.quarantine_after))
    items.append(("docker.quarantine_seconds", docker.quarantine_seconds))
    items.append(("docker.job_timeout", docker.job_timeout))
    containers = config.containers
    items.append(("containers.check_env_names", containers.check_env_names))
    items.append(("containers.allowed_env", list(containers.allowed_env)))
    items.append(("containers.git_author", containers.git_author))
    items.append(("containers.git_commit_hash", containers.git_commit_hash))
    items.append(("containers.source_date_epoch", containers.source_date_epoch))
    return items


def _describe_endpoint(endpoint: EndpointConfig) -> list[tuple[str, object]]:
    prefix = f"docker.endpoints.{endpoint.name}"
    tls = endpoint.tls
    values: dict[str, object] = {
        "uri": endpoint.uri,
        "endpoint_type": endpoint.endpoint_type.value,
        "maxjobs": endpoint.maxjobs,
        "network_mode": endpoint.network_mode,
        "timeout": endpoint.timeout,
        "tls_verify": tls.verify if tls else False,
        "tls_ca_cert": _plain(tls.ca_cert) if tls else None,
        "tls_client_cert": _plain(tls.client_cert) if tls else None,
        "tls_client_key": _plain(tls.client_key) if tls else None,
    }
    return [(f"{prefix}.{setting.key}", values[setting.key]) for setting in ENDPOINT]


def _plain(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
