"""The `compatibility` key and butido's messages about it."""

from __future__ import annotations

import pytest

from butido_py.config.compat import check_compatibility, required_changes
from butido_py.errors import ConfigError, ExitCode
from tests.unit.config.conftest import Loader


def test_current_version_passes() -> None:
    assert check_compatibility(1, "f") == 1


def test_version_as_text_passes_like_butido() -> None:
    assert check_compatibility("1", "f") == 1


def test_missing_compatibility(load: Loader) -> None:
    with pytest.raises(ConfigError) as info:
        load('available_phases = ["b"]\n')
    assert str(info.value) == (
        'Make sure that the butido configuration is present and that "compatibility" is set'
    )
    assert info.value.exit_code == ExitCode.CONFIG


@pytest.mark.parametrize("value", ['"0.1.0"', '"one"', "true", "1.5", "-1", "70000"])
def test_not_a_number(load: Loader, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(f'compatibility = {value}\navailable_phases = ["b"]\n')
    assert "is not a number" in str(info.value)
    assert "config.toml: compatibility:" in str(info.value)
    assert info.value.hint == 'set "compatibility" to 0 to get a summary of the required changes'


def test_too_new(load: Loader) -> None:
    with pytest.raises(
        ConfigError, match="this version of butido is too old for your configuration"
    ):
        load('compatibility = 2\navailable_phases = ["b"]\n')


def test_too_old_lists_every_change(load: Loader) -> None:
    with pytest.raises(ConfigError) as info:
        load('compatibility = 0\navailable_phases = ["b"]\n')
    lines = str(info.value).splitlines()
    assert lines[0].endswith(
        "the butido configuration is too old and the following changes are required:"
    )
    assert lines[1:] == [
        (
            "- Version 1: The format of the compatibility setting has changed from a string "
            "(semver::VersionReq) to a number (u16)."
        ),
        "- Update the compatibility setting to `1`",
    ]


def test_required_changes_of_current_version_is_empty() -> None:
    assert required_changes(1) == []


def test_compatibility_is_checked_before_other_keys(load: Loader) -> None:
    # An unknown key would also be an error; the version problem is reported first, as butido does.
    with pytest.raises(ConfigError, match="too old for your configuration"):
        load("compatibility = 9\nnot_a_key = 1\n")
