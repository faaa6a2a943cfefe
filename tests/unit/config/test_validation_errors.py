"""Each validation error: one line naming the origin, the key path and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from butido_py.errors import ConfigError
from tests.unit.config.conftest import Loader

HEAD = 'compatibility = 1\navailable_phases = ["build"]\n'
ENDPOINT = '[docker.endpoints.e]\nuri = "/run/d.sock"\nendpoint_type = "socket"\nmaxjobs = 1\n'


@pytest.mark.parametrize(
    ("body", "path", "problem"),
    [
        ("maxjob = 1\n", "maxjob", "unknown key; known keys:"),
        ("stagin = '/x'\n", "stagin", "unknown key; did you mean 'staging'?"),
        ("database_hots = 'x'\n", "database_hots", "did you mean 'database_host'?"),
        (ENDPOINT + "maxjob = 2\n", "docker.endpoints.e.maxjob", "did you mean 'maxjobs'?"),
        ("[docker]\nimage = []\n", "docker.image", "did you mean 'images'?"),
        ("[containers]\ncheck_env_name = true\n", "containers.check_env_name", "'check_env_names'"),
        (
            "[docker]\nimages = [{ name = 'a', shortname = 'b' }]\n",
            "docker.images.0.shortname",
            "did you mean 'short_name'?",
        ),
        (
            "[docker]\nimages = [{ name = 'a' }]\n",
            "docker.images.0.short_name",
            "missing required key",
        ),
        ("build_error_lines = 'ten'\n", "build_error_lines", "expected an integer, got a string"),
        ("build_error_lines = -1\n", "build_error_lines", "must be at least 0"),
        ("strict_script_interpolation = 'yes'\n", "strict_script_interpolation", "true or false"),
        ("shebang = 1\n", "shebang", "expected a string, got an integer 1"),
        ("staging = ''\n", "staging", "must not be empty"),
        ("release_stores = []\n", "release_stores", "must not be empty"),
        ("release_stores = ['a', 'a']\n", "release_stores", "release store 'a' is listed twice"),
        ("release_stores = ['a/b']\n", "release_stores", "'a/b' is not a directory name"),
        ("release_stores = 'a'\n", "release_stores", "expected a list of strings"),
        ("database_port = 70000\n", "database_port", "must be at least 1 and at most 65535"),
        ("script_highlight_theme = 'dracula'\n", "script_highlight_theme", "theme not known"),
        ("docker = 1\n", "docker", "expected a table, got an integer 1"),
        ("[docker]\nendpoints = { e = 3 }\n", "docker.endpoints.e", "expected a table"),
        (
            (
                "[docker]\nimages = [{ name = 'a:1', short_name = 'x' }, "
                "{ name = 'b:1', short_name = 'x' }]\n"
            ),
            "docker.images",
            "image name 'x' is used by both 'a:1' and 'b:1'",
        ),
        (
            (
                "[docker]\nimages = [{ name = 'a:1', short_name = 'x' }, "
                "{ name = 'a:1', short_name = 'y' }]\n"
            ),
            "docker.images",
            "image 'a:1' is listed twice",
        ),
        (
            ENDPOINT.replace("maxjobs = 1", "maxjobs = 0"),
            "docker.endpoints.e.maxjobs",
            "at least 1",
        ),
        (ENDPOINT.replace("maxjobs = 1\n", ""), "docker.endpoints.e.maxjobs", "missing required"),
        (ENDPOINT.replace('uri = "/run/d.sock"\n', ""), "docker.endpoints.e.uri", "missing"),
        (
            ENDPOINT.replace('"socket"', '"ssh"'),
            "docker.endpoints.e.endpoint_type",
            "must be 'socket' or 'http', got 'ssh'",
        ),
        (
            ENDPOINT.replace('"/run/d.sock"', '"tcp://h:1"'),
            "docker.endpoints.e.uri",
            "does not fit endpoint_type 'socket'",
        ),
        (
            ENDPOINT + "tls_verify = true\n",
            "docker.endpoints.e",
            "TLS options only apply to endpoint_type 'http'",
        ),
        (
            ENDPOINT.replace('"/run/d.sock"', '"tcp://h:1"').replace('"socket"', '"http"')
            + "tls_client_cert = '/c.pem'\n",
            "docker.endpoints.e",
            "tls_client_cert and tls_client_key must be given together",
        ),
        (ENDPOINT + "timeout = 0\n", "docker.endpoints.e.timeout", "must be at least 1"),
        ("[docker]\njob_timeout = 'soon'\n", "docker.job_timeout", "is not a duration"),
        ("[docker]\njob_timeout = '0s'\n", "docker.job_timeout", "must be longer than 0 s"),
        ("[containers]\nallowed_env = 'A'\n", "containers.allowed_env", "a list of strings"),
    ],
)
def test_error_names_file_key_and_problem(
    load: Loader, repo: Path, body: str, path: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(HEAD + body)
    lines = str(info.value).splitlines()
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith(f"{repo / 'config.toml'}: {path}: "), line
    assert problem in line


@pytest.mark.parametrize(
    ("text", "path", "problem"),
    [
        ("compatibility = 1\n", "available_phases", "missing required key"),
        ("compatibility = 1\navailable_phases = []\n", "available_phases", "must not be empty"),
        (
            "compatibility = 1\navailable_phases = ['a', 'a']\n",
            "available_phases",
            "phase 'a' is listed twice",
        ),
    ],
)
def test_phase_errors(load: Loader, repo: Path, text: str, path: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(text)
    assert str(info.value) == f"{repo / 'config.toml'}: {path}: {problem}" or (
        problem in str(info.value) and f": {path}: " in str(info.value)
    )


def test_all_problems_are_reported_together(load: Loader) -> None:
    with pytest.raises(ConfigError) as info:
        load(HEAD + "maxjob = 1\nshebang = 2\n[containers]\nallowed = []\n")
    lines = str(info.value).splitlines()
    assert len(lines) == 3
    assert [line.split(": ")[1] for line in lines] == ["maxjob", "shebang", "containers.allowed"]


def test_error_names_the_user_config_when_it_set_the_bad_value(load: Loader, home: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(HEAD, user="build_error_lines = 'x'\n")
    user_file = home / ".config" / "butido" / "config.toml"
    assert str(info.value).startswith(f"{user_file}: build_error_lines: ")


def test_keys_are_case_sensitive(load: Loader) -> None:
    with pytest.raises(ConfigError, match="Shebang: unknown key; did you mean 'shebang'"):
        load(HEAD + "Shebang = '#!/bin/sh'\n")
