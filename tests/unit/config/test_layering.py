"""Layering order: repository config → user config → BUTIDO_<KEY> variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from butido_py.config import load_config
from butido_py.config.layers import Layer, merge_layers
from butido_py.errors import ConfigError
from tests.unit.config.conftest import MINIMAL, Loader

REPO = """
compatibility = 1
available_phases = ["a", "b"]
build_error_lines = 5
release_stores = ["one", "two"]
[docker.endpoints.e1]
uri = "/run/one.sock"
endpoint_type = "socket"
maxjobs = 1
[containers]
allowed_env = ["A"]
git_author = "AUTHOR"
"""


def test_user_config_overrides_repository_config(load: Loader, home: Path) -> None:
    user = """
build_error_lines = 7
release_stores = ["three"]
[docker.endpoints.e1]
maxjobs = 4
[containers]
allowed_env = ["B", "C"]
"""
    loaded = load(REPO, user=user)
    config = loaded.config
    assert config.build_error_lines == 7
    # Arrays are replaced, not concatenated.
    assert config.release_stores == ("three",)
    assert config.containers.allowed_env == ("B", "C")
    # Tables are merged key by key: uri from the repository, maxjobs from the user config.
    (endpoint,) = config.docker.endpoints
    assert (endpoint.uri, endpoint.maxjobs) == ("/run/one.sock", 4)
    assert config.containers.git_author == "AUTHOR"
    assert loaded.sources[1] == str(home / ".config" / "butido" / "config.toml")
    assert config.origin_of("docker.endpoints.e1.maxjobs") == loaded.sources[1]
    assert config.origin_of("docker.endpoints.e1.uri") == loaded.sources[0]


def test_xdg_config_home_is_honoured(load: Loader, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "butido").mkdir(parents=True)
    (xdg / "butido" / "config.toml").write_text("build_error_lines = 99\n")
    config = load(REPO, env={"XDG_CONFIG_HOME": str(xdg)}).config
    assert config.build_error_lines == 99


def test_environment_overrides_both_files(load: Loader) -> None:
    config = load(
        REPO, user="build_error_lines = 7\n", env={"BUTIDO_BUILD_ERROR_LINES": "3"}
    ).config
    assert config.build_error_lines == 3
    assert config.origin_of("build_error_lines") == "environment variable BUTIDO_BUILD_ERROR_LINES"


def test_xdg_data_home_moves_the_default_directories(load: Loader, tmp_path: Path) -> None:
    config = load(env={"XDG_DATA_HOME": str(tmp_path / "data")}).config
    assert config.staging == tmp_path / "data" / "butido" / "staging"
    assert config.log_dir == tmp_path / "data" / "butido" / "logs"


def test_user_config_alone_is_enough(load: Loader) -> None:
    config = load(None, user=MINIMAL).config
    assert config.available_phases == ("build",)


def test_explicit_config_file_replaces_the_repository_file(
    load: Loader, repo: Path, home: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(MINIMAL.replace('"build"', '"other"'))
    (repo / "config.toml").write_text(MINIMAL)
    loaded = load_config(cwd=repo, environ={"HOME": str(home)}, config_file=other)
    assert loaded.config.available_phases == ("other",)
    assert loaded.sources == (str(other),)


def test_missing_explicit_config_file_is_an_error(repo: Path, home: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: configuration file not found"):
        load_config(cwd=repo, environ={"HOME": str(home)}, config_file=repo / "nope.toml")


def test_no_configuration_anywhere_is_an_error_with_a_hint(load: Loader, repo: Path) -> None:
    with pytest.raises(ConfigError, match="no butido configuration found") as info:
        load(None)
    assert info.value.hint is not None
    assert str(repo / "config.toml") in info.value.hint


def test_merge_replaces_a_table_by_a_scalar_and_back() -> None:
    merged = merge_layers(
        [
            Layer("a", {"docker": {"images": [], "endpoints": {"x": {"maxjobs": 1}}}}),
            Layer("b", {"docker": {"endpoints": "oops"}}),
            Layer("c", {"docker": {"endpoints": {"y": {"maxjobs": 2}}}}),
        ]
    )
    assert merged.data == {"docker": {"images": [], "endpoints": {"y": {"maxjobs": 2}}}}
    assert merged.origin(("docker", "endpoints", "y", "maxjobs")) == "c"
    assert merged.origin(("docker", "images")) == "a"
    assert ("docker", "endpoints", "x", "maxjobs") not in merged.origins


def test_invalid_toml_names_file_and_line(load: Loader, repo: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load("compatibility = 1\nshebang = \n")
    message = str(info.value)
    assert message.startswith(f"{repo / 'config.toml'}: invalid TOML")
    assert "line 2" in message
