"""Every configuration key: its default, and that a value given for it arrives in the model."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from butido_py.config import EndpointType, load_config
from butido_py.config.settings import (
    CONTAINERS,
    DEFAULT_PACKAGE_PRINT_FORMAT,
    DEFAULT_PROGRESS_FORMAT,
    DOCKER,
    ENDPOINT,
    IMAGE,
    TOP_LEVEL,
    Setting,
)
from tests.unit.config.conftest import Loader

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures"


def test_minimal_configuration_gets_every_default(load: Loader, repo: Path, home: Path) -> None:
    loaded = load()
    config = loaded.config
    data = home / ".local" / "share" / "butido"
    assert loaded.repository_root == repo
    assert config.compatibility == 1
    assert config.log_dir == data / "logs"
    assert config.strict_script_interpolation is True
    assert config.progress_format == DEFAULT_PROGRESS_FORMAT
    assert config.package_print_format == DEFAULT_PACKAGE_PRINT_FORMAT
    assert config.build_error_lines == 10
    assert config.script_highlight_theme is None
    assert config.script_linter is None
    assert config.shebang == "#!/bin/bash"
    assert config.releases_root == data / "releases"
    assert config.release_stores == ("default",)
    assert config.staging == data / "staging"
    assert config.source_cache == data / "sources"
    assert config.available_phases == ("build",)
    database = config.database
    assert (database.url, database.host, database.user, database.password, database.name) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert database.port == 5432
    assert database.connection_timeout == 30
    assert database.default_query_limit == 10
    assert config.docker.images == ()
    assert config.docker.docker_versions is None
    assert config.docker.docker_api_versions is None
    assert config.containers.check_env_names is False
    assert config.containers.allowed_env == ()
    assert config.containers.git_author is None
    assert config.containers.git_commit_hash is None


def test_no_endpoint_means_local_at_docker_host(load: Loader) -> None:
    docker = load(env={"DOCKER_HOST": "tcp://127.0.0.1:23750"}).config.docker
    assert docker.implicit_endpoint
    (endpoint,) = docker.endpoints
    assert endpoint.name == "local"
    assert endpoint.uri == "tcp://127.0.0.1:23750"
    assert endpoint.endpoint_type is EndpointType.HTTP
    assert (endpoint.network_mode, endpoint.network_mode_set) == ("none", False)


def test_no_endpoint_and_no_docker_host_means_default_socket(load: Loader) -> None:
    (endpoint,) = load().config.docker.endpoints
    assert endpoint.uri == "unix:///var/run/docker.sock"
    assert endpoint.endpoint_type is EndpointType.SOCKET
    assert endpoint.docker_url == "unix:///var/run/docker.sock"


def test_butido_example_configuration_loads_unchanged(load: Loader, repo: Path) -> None:
    text = (FIXTURES / "butido-example-config.toml").read_text()
    config = load(text).config
    assert config.log_dir == Path("/tmp/butido-test-logs")
    assert config.progress_format.startswith("[{elapsed_precise}]")
    assert config.package_print_format.lstrip().startswith("{{i}} - {{p.name}}")
    assert config.script_highlight_theme == "Solarized (dark)"
    assert config.script_linter == Path("/usr/bin/shellcheck")
    assert config.release_stores == ("default", "testing")
    assert config.releases_root == Path("/tmp/butido-test-releases")
    assert config.staging == Path("/tmp/butido-test-staging")
    assert config.source_cache == Path("/tmp/butido-test-sources")
    assert config.database.host == "localhost"
    assert config.database.user == "pgdev"
    assert config.database.password == "password"
    assert config.database.name == "butido"
    assert config.available_phases == ("sourcecheck", "patchcheck", "depcheck", "build")
    assert config.docker.docker_versions == ("20.10.0",)
    assert config.docker.docker_api_versions == ("1.40", "1.41")
    assert [(i.name, i.short_name) for i in config.docker.images] == [
        ("debian:bullseye", "deb11"),
        ("local:debian10-default", "deb10"),
    ]
    http = config.docker.endpoint("testhostname")
    assert http is not None
    assert http.endpoint_type is EndpointType.HTTP
    assert http.docker_url == "tcp://0.0.0.0:8095"
    assert (http.maxjobs, http.network_mode, http.timeout) == (1, "bridge", 10)
    socket = config.docker.endpoint("localsocket")
    assert socket is not None
    assert socket.docker_url == "unix:///var/run/docker.sock"
    assert not config.docker.implicit_endpoint
    assert config.containers.check_env_names is True
    assert config.containers.allowed_env == ("FOO", "BAR")
    assert config.containers.git_author == "GIT_AUTHOR_NAME"
    assert config.containers.git_commit_hash == "GIT_COMMIT_HASH"


def test_every_top_level_key_of_the_butido_example_is_known() -> None:
    data = tomllib.loads((FIXTURES / "butido-example-config.toml").read_text())
    butido_keys = {s.key for s in TOP_LEVEL} - {
        "database_url",
        "database_retry_seconds",
        "heartbeat_timeout",
        "max_log_size",
        "max_output_size",
    }
    assert set(data) == butido_keys


def test_reference_configuration_loads(tmp_path: Path) -> None:
    loaded = load_config(
        cwd=tmp_path,
        environ={"HOME": str(tmp_path)},
        config_file=ROOT / "config" / "config.toml",
    )
    assert loaded.config.docker.endpoint("local") is not None
    assert loaded.config.containers.git_commit_hash == "GIT_COMMIT_HASH"


@pytest.mark.parametrize(
    ("table", "settings"),
    [
        ("", TOP_LEVEL),
        ("[docker]", DOCKER),
        ("images", IMAGE),
        ("[docker.endpoints.", ENDPOINT),
        ("[containers]", CONTAINERS),
    ],
)
def test_reference_configuration_documents_every_key(
    table: str, settings: tuple[Setting, ...]
) -> None:
    text = (ROOT / "config" / "config.toml").read_text()
    for setting in settings:
        forms = (f"{setting.key} =", f"[{setting.key}]", f"[docker.{setting.key}.")
        documented = any(form in text for form in forms)
        assert documented, f"config/config.toml does not document {setting.key!r} ({table})"


def test_relative_paths_are_relative_to_the_repository(load: Loader, repo: Path) -> None:
    text = 'compatibility = 1\navailable_phases = ["b"]\nstaging = "out/staging"\n'
    sub = repo / "some" / "dir"
    sub.mkdir(parents=True)
    config = load(text, cwd=sub).config
    assert config.staging == repo / "out" / "staging"


def test_values_of_every_endpoint_key(load: Loader, repo: Path) -> None:
    text = """
compatibility = 1
available_phases = ["b"]
[docker.endpoints.remote]
uri = "https://build.example.com:2376"
endpoint_type = "http"
maxjobs = 3
network_mode = "bridge"
timeout = 30
tls_verify = true
tls_ca_cert = "tls/ca.pem"
tls_client_cert = "/etc/tls/cert.pem"
tls_client_key = "/etc/tls/key.pem"
"""
    endpoint = load(text).config.docker.endpoints[0]
    assert endpoint.docker_url == "tcp://build.example.com:2376"
    assert (endpoint.maxjobs, endpoint.network_mode, endpoint.timeout) == (3, "bridge", 30)
    assert endpoint.network_mode_set is True
    assert endpoint.tls is not None
    assert endpoint.tls.verify is True
    assert endpoint.tls.ca_cert == repo / "tls" / "ca.pem"
    assert endpoint.tls.client_cert == Path("/etc/tls/cert.pem")
    assert endpoint.tls.client_key == Path("/etc/tls/key.pem")
