"""Fixtures for the real services started by scripts/services.

When BUTIDO_TEST_REQUIRE_SERVICES=1 (scripts/test sets it) a missing service fails the test;
otherwise (a developer running pytest by hand) the test is skipped with the command to run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from sqlalchemy import Engine

from butido_py.config.model import EndpointConfig, EndpointType, TlsConfig
from butido_py.db.engine import open_engine, server_info
from butido_py.endpoint.docker import tls_config
from butido_py.errors import ButidoError

TINY_IMAGE = "butido-tiny:latest"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://butido:butido@127.0.0.1:5432/butido_test"
DEFAULT_TLS_DOCKER_HOST = "tcp://127.0.0.1:23760"
DEFAULT_TLS_DIR = "/etc/butido-test-tls"


def service_missing(what: str, reason: object) -> None:
    message = f"{what} is not available ({reason}); run scripts/services (as root) first"
    if os.environ.get("BUTIDO_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _endpoint(name: str, uri: str, kind: EndpointType) -> EndpointConfig:
    return EndpointConfig(name=name, uri=uri, endpoint_type=kind, maxjobs=2, timeout=30)


@pytest.fixture(scope="session")
def docker_endpoint() -> EndpointConfig:
    uri = os.environ.get("BUTIDO_TEST_DOCKER_HOST", "unix:///var/run/docker.sock")
    kind = EndpointType.SOCKET if uri.startswith("unix://") else EndpointType.HTTP
    endpoint = _endpoint("primary", uri, kind)
    _require_docker(endpoint)
    return endpoint


@pytest.fixture(scope="session")
def second_docker_endpoint() -> EndpointConfig:
    uri = os.environ.get("BUTIDO_TEST_DOCKER2_HOST", "tcp://127.0.0.1:23750")
    endpoint = _endpoint("secondary", uri, EndpointType.HTTP)
    _require_docker(endpoint)
    return endpoint


@pytest.fixture(scope="session")
def tls_docker_endpoint() -> EndpointConfig:
    """The engine `scripts/services --tls-docker` starts: TLS only, client certificates
    demanded. Its certificates (BUTIDO_TEST_TLS_DIR) are laid out for DOCKER_CERT_PATH: ca.pem,
    cert.pem, key.pem; wrong-ca/ca.pem is an unrelated CA."""
    uri = os.environ.get("BUTIDO_TEST_TLS_DOCKER_HOST", DEFAULT_TLS_DOCKER_HOST)
    directory = Path(os.environ.get("BUTIDO_TEST_TLS_DIR", DEFAULT_TLS_DIR))
    files = [directory / name for name in ("ca.pem", "cert.pem", "key.pem")]
    if not all(path.is_file() for path in files):
        service_missing(f"TLS certificates in {directory}", "run scripts/services --tls-docker")
    tls = TlsConfig(verify=True, ca_cert=files[0], client_cert=files[1], client_key=files[2])
    endpoint = EndpointConfig(
        name="farm-tls", uri=uri, endpoint_type=EndpointType.HTTP, maxjobs=2, timeout=30, tls=tls
    )
    _require_docker(endpoint)
    return endpoint


def _require_docker(endpoint: EndpointConfig) -> None:
    try:
        client = docker.DockerClient(
            base_url=endpoint.docker_url, tls=tls_config(endpoint) or False, timeout=10
        )
        client.ping()
        client.images.get(TINY_IMAGE)
    except docker.errors.ImageNotFound:
        service_missing(f"image {TINY_IMAGE} on {endpoint.uri}", "run scripts/images")
    except Exception as exc:  # noqa: BLE001 - any failure to connect means: not available
        service_missing(f"Docker engine at {endpoint.uri}", exc)
    else:
        client.close()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return os.environ.get("BUTIDO_TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = open_engine(postgres_url)
    try:
        server_info(engine)
    except ButidoError as exc:
        service_missing("PostgreSQL", exc)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'nested' / 'butido.sqlite'}")
    yield engine
    engine.dispose()
