from __future__ import annotations

import pytest

from butido_py.package.envspec import EnvSpecError, parse_env_spec, parse_env_specs


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("A=b", ("A", "b")),
        ("A=b=c", ("A", "b=c")),
        ("A=", ("A", "")),
        ('A="x y"', ("A", "x y")),
        ('A="', ("A", '"')),
        ("Key_2=v", ("Key_2", "v")),
    ],
)
def test_key_value(spec: str, expected: tuple[str, str]) -> None:
    assert parse_env_spec(spec) == expected


def test_bare_name_takes_the_value_from_the_environment() -> None:
    assert parse_env_spec("HOME", {"HOME": "/root"}) == ("HOME", "/root")
    with pytest.raises(EnvSpecError, match=r"\$HOME is not set"):
        parse_env_spec("HOME", {})


@pytest.mark.parametrize("spec", ["=v", "1A=v", "A-B=v", " A=v", ""])
def test_invalid_keys(spec: str) -> None:
    with pytest.raises(EnvSpecError, match="expected KEY=VALUE"):
        parse_env_spec(spec)


def test_later_value_wins_and_order_is_kept() -> None:
    assert parse_env_specs(["B=1", "A=2", "B=3"]) == (("B", "3"), ("A", "2"))
