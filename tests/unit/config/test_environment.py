"""BUTIDO_<KEY> environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from butido_py.config.layers import environment_layers, parse_environment_value
from butido_py.config.settings import TOP_LEVEL, ValueKind
from butido_py.errors import ConfigError
from tests.unit.config.conftest import Loader


@pytest.mark.parametrize(
    ("name", "raw", "attribute", "expected"),
    [
        ("BUTIDO_SHEBANG", "#!/bin/sh", "shebang", "#!/bin/sh"),
        ("BUTIDO_BUILD_ERROR_LINES", "42", "build_error_lines", 42),
        ("BUTIDO_STRICT_SCRIPT_INTERPOLATION", "false", "strict_script_interpolation", False),
        ("BUTIDO_STRICT_SCRIPT_INTERPOLATION", "0", "strict_script_interpolation", False),
        ("BUTIDO_STRICT_SCRIPT_INTERPOLATION", "YES", "strict_script_interpolation", True),
        ("BUTIDO_RELEASE_STORES", "a, b", "release_stores", ("a", "b")),
        ("BUTIDO_RELEASE_STORES", '["x", "y"]', "release_stores", ("x", "y")),
        ("BUTIDO_AVAILABLE_PHASES", "one,two,three", "available_phases", ("one", "two", "three")),
        ("BUTIDO_STAGING", "/srv/staging", "staging", Path("/srv/staging")),
        (
            "BUTIDO_SCRIPT_HIGHLIGHT_THEME",
            "InspiredGitHub",
            "script_highlight_theme",
            "InspiredGitHub",
        ),
    ],
)
def test_environment_sets_top_level_keys(
    load: Loader, name: str, raw: str, attribute: str, expected: object
) -> None:
    config = load(env={name: raw}).config
    assert getattr(config, attribute) == expected


@pytest.mark.parametrize(
    ("name", "raw", "attribute", "expected"),
    [
        ("BUTIDO_DATABASE_HOST", "db1", "host", "db1"),
        ("BUTIDO_DATABASE_PORT", "6543", "port", 6543),
        ("BUTIDO_DATABASE_USER", "u", "user", "u"),
        ("BUTIDO_DATABASE_PASSWORD", "p@ss", "password", "p@ss"),
        ("BUTIDO_DATABASE_NAME", "n", "name", "n"),
        ("BUTIDO_DATABASE_URL", "sqlite:///x.db", "url", "sqlite:///x.db"),
        ("BUTIDO_DATABASE_CONNECTION_TIMEOUT", "5", "connection_timeout", 5),
        ("BUTIDO_DATABASE_DEFAULT_QUERY_LIMIT", "0", "default_query_limit", 0),
    ],
)
def test_environment_sets_database_keys(
    load: Loader, name: str, raw: str, attribute: str, expected: object
) -> None:
    database = load(env={name: raw}).config.database
    assert getattr(database, attribute) == expected


def test_environment_can_set_a_table_as_toml(load: Loader) -> None:
    raw = '{ check_env_names = true, allowed_env = ["X"] }'
    containers = load(env={"BUTIDO_CONTAINERS": raw}).config.containers
    assert containers.check_env_names is True
    assert containers.allowed_env == ("X",)


def test_stray_butido_variables_change_nothing(load: Loader) -> None:
    plain = load()
    stray = load(env={"BUTIDO_REPO": "x", "BUTIDO_TEST_DATABASE_URL": "y", "BUTIDO_": "z"})
    assert stray.config == plain.config
    assert stray.ignored_environment == ("BUTIDO_", "BUTIDO_REPO", "BUTIDO_TEST_DATABASE_URL")


def test_lower_case_suffix_is_accepted_like_butido(load: Loader) -> None:
    assert load(env={"BUTIDO_shebang": "#!/bin/zsh"}).config.shebang == "#!/bin/zsh"


@pytest.mark.parametrize(
    ("name", "raw", "problem"),
    [
        ("BUTIDO_BUILD_ERROR_LINES", "many", "expected an integer, got a string 'many'"),
        ("BUTIDO_STRICT_SCRIPT_INTERPOLATION", "maybe", "expected true or false"),
        ("BUTIDO_DOCKER", "not a table", "expected a table"),
    ],
)
def test_bad_environment_values_name_the_variable(
    load: Loader, name: str, raw: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(env={name: raw})
    assert str(info.value).startswith(f"environment variable {name}: ")
    assert problem in str(info.value)


def test_every_setting_kind_has_an_environment_conversion() -> None:
    for setting in TOP_LEVEL:
        sample = {
            ValueKind.INTEGER: "1",
            ValueKind.BOOLEAN: "true",
            ValueKind.STRING_LIST: "a",
            ValueKind.TABLE: "{}",
        }.get(setting.kind, "text")
        value = parse_environment_value(setting, sample)
        assert not isinstance(value, str) or setting.kind in (ValueKind.STRING, ValueKind.PATH)


def test_environment_layers_are_ordered_and_labelled() -> None:
    layers = environment_layers({"BUTIDO_SHEBANG": "#!/x", "BUTIDO_LOG_DIR": "/l", "PATH": "/bin"})
    assert [layer.source for layer in layers] == [
        "environment variable BUTIDO_LOG_DIR",
        "environment variable BUTIDO_SHEBANG",
    ]
