"""Endpoints over TLS against the real TLS engine of `scripts/services --tls-docker`: a build, a
ping, and the errors for a wrong CA and a missing client certificate or key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from butido_py.config.model import EndpointConfig, TlsConfig
from butido_py.db import jobs as db_jobs
from tests.e2e.conftest import MINIMAL, Result, Runner
from tests.helpers.workspace import Workspace, make_workspace

pytestmark = pytest.mark.docker


def tls_of(endpoint: EndpointConfig) -> TlsConfig:
    assert endpoint.tls is not None
    return endpoint.tls


def wrong_ca(endpoint: EndpointConfig) -> Path:
    ca = tls_of(endpoint).ca_cert
    assert ca is not None
    return ca.parent / "wrong-ca" / "ca.pem"


def endpoint_toml(endpoint: EndpointConfig, **tls_keys: object) -> str:
    """The endpoint's table with its TLS keys; `tls_keys` replace them (None drops one)."""
    tls = tls_of(endpoint)
    keys: dict[str, object] = {
        "tls_verify": True,
        "tls_ca_cert": tls.ca_cert,
        "tls_client_cert": tls.client_cert,
        "tls_client_key": tls.client_key,
    } | tls_keys
    lines = [
        f"[docker.endpoints.{endpoint.name}]",
        f'uri = "{endpoint.uri}"',
        'endpoint_type = "http"',
        f"maxjobs = {endpoint.maxjobs}",
        "timeout = 10",
    ]
    for key, value in keys.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {str(value).lower()}")
        elif value is not None:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """Exit code 6 (endpoint), `error:` naming the endpoint on one line, a hint, no traceback."""
    assert result.code == 6, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("error: endpoint 'farm-tls' (tcp://"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert lines[1].startswith("hint: "), lines[1]
    assert "Traceback" not in result.stderr


@pytest.fixture
def space(tmp_path: Path, tls_docker_endpoint: EndpointConfig) -> Iterator[Workspace]:
    """A repository whose only endpoint is the TLS engine, with two small packages."""
    workspace = make_workspace(tmp_path, [], f"sqlite:///{tmp_path / 'tls.sqlite'}")
    config = workspace.root / "config.toml"
    config.write_text(config.read_text() + "\n" + endpoint_toml(tls_docker_endpoint))
    workspace.add_package(
        "tls-lib",
        build='{{phase "build"}}\nmkdir -p /outputs\n'
        'echo "package tls-lib 1" > /outputs/tls-lib-1.pkg',
    )
    workspace.add_package("tls-app", depends=["tls-lib 1"])
    workspace.commit("packages for the TLS engine")
    yield workspace
    workspace.close()


def test_build_on_the_tls_engine_succeeds(space: Workspace) -> None:
    done = space.cli("build", "tls-app", "1", "-I", "tiny", "--json")
    assert done.code == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["state"] == "succeeded"
    assert {job["package"]: job["state"] for job in summary["jobs"]} == {
        "tls-lib": "succeeded",
        "tls-app": "succeeded",
    }
    submit = UUID(summary["submit"])
    jobs = db_jobs.list_jobs(space.database(), db_jobs.JobFilter(submit_uuid=submit))
    assert {job.endpoint for job in jobs} == {"farm-tls"}
    staged = space.data / "staging" / summary["submit"]
    assert sorted(p.name for p in staged.iterdir()) == ["tls-app-1.pkg", "tls-lib-1.pkg"]


def test_build_with_a_wrong_ca_fails_with_one_line_naming_the_endpoint(
    space: Workspace, tls_docker_endpoint: EndpointConfig
) -> None:
    config = space.root / "config.toml"
    config.write_text(
        config.read_text().replace(
            f'tls_ca_cert = "{tls_of(tls_docker_endpoint).ca_cert}"',
            f'tls_ca_cert = "{wrong_ca(tls_docker_endpoint)}"',
        )
    )
    space.commit("the wrong CA")
    done = space.cli("build", "tls-app", "1", "-I", "tiny")
    assert done.code != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith("error: endpoint 'farm-tls' (tcp://"), errors[0]
    assert "certificate is not trusted" in errors[0]
    assert "Traceback" not in done.stderr


def write_config(repo: Path, endpoint: EndpointConfig, **tls_keys: object) -> None:
    (repo / "config.toml").write_text(MINIMAL + endpoint_toml(endpoint, **tls_keys))


def test_ping_over_tls(butido: Runner, repo: Path, tls_docker_endpoint: EndpointConfig) -> None:
    write_config(repo, tls_docker_endpoint)
    result = butido("endpoint", "ping", "-n", "2", "--sleep", "0", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert len(report["round_trips"]["farm-tls"]) == 2


def test_ping_with_a_wrong_ca(
    butido: Runner, repo: Path, tls_docker_endpoint: EndpointConfig
) -> None:
    write_config(repo, tls_docker_endpoint, tls_ca_cert=wrong_ca(tls_docker_endpoint))
    result = butido("endpoint", "ping", "-n", "1")
    assert_one_line_error(result, "TLS: the engine's certificate is not trusted")
    assert "tls_ca_cert" in result.stderr.splitlines()[1]


@pytest.mark.parametrize(
    ("tls_keys", "fragment"),
    [
        ({"tls_client_cert": None, "tls_client_key": None}, "demands a client certificate"),
        ({"tls_client_key": "/nonexistent/key.pem"}, "tls_client_key '/nonexistent/key.pem'"),
    ],
    ids=["no-client-certificate", "client-key-file-missing"],
)
def test_ping_without_a_usable_client_key(
    butido: Runner,
    repo: Path,
    tls_docker_endpoint: EndpointConfig,
    tls_keys: dict[str, object],
    fragment: str,
) -> None:
    write_config(repo, tls_docker_endpoint, **tls_keys)
    assert_one_line_error(butido("endpoint", "ping", "-n", "1"), fragment)


def test_client_certificate_without_its_key_is_a_configuration_error(
    butido: Runner, repo: Path, tls_docker_endpoint: EndpointConfig
) -> None:
    write_config(repo, tls_docker_endpoint, tls_client_key=None)
    result = butido("config", "check")
    assert result.code == 3
    assert "docker.endpoints.farm-tls: tls_client_cert and tls_client_key must be given" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
