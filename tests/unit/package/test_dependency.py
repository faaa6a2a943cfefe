from __future__ import annotations

import pytest

from butido_py.package.dependency import DependencyError, parse_dependency
from butido_py.package.model import Condition, DependencyKind

BUILD = DependencyKind.BUILD


@pytest.mark.parametrize(
    ("text", "name", "version"),
    [
        ("zlib 1.3.1", "zlib", "1.3.1"),
        ("zlib =1.3.1", "zlib", "1.3.1"),
        ("7z =42", "7z", "42"),
        ("lib.foo_bar-2 1.0+git~rc", "lib.foo_bar-2", "1.0+git~rc"),
        ("b 2", "b", "2"),
    ],
)
def test_string_entries(text: str, name: str, version: str) -> None:
    dependency = parse_dependency(text, BUILD)
    assert (dependency.name, dependency.version, dependency.kind) == (name, version, BUILD)
    assert dependency.text == text
    assert dependency.condition is None


@pytest.mark.parametrize(
    "text",
    ["zlib", "zlib  1", " zlib 1", "zlib 1 ", "-x 1", "zlib 1 2", "zl/ib 1", "", "zlib\t1"],
)
def test_malformed_entries_are_rejected(text: str) -> None:
    with pytest.raises(DependencyError, match="is not 'NAME VERSION'"):
        parse_dependency(text, BUILD)


@pytest.mark.parametrize(
    "text", ["zlib >1", "zlib <1", "zlib *1", "zlib >=1", "zlib ==1", "zlib =>1", "zlib *"]
)
def test_comparators_other_than_equals_are_rejected_with_butidos_message(text: str) -> None:
    with pytest.raises(DependencyError) as error:
        parse_dependency(text, BUILD)
    assert str(error.value) == (
        f"dependency {text!r}: A package version constraint must have a version and an optional "
        "comparator (only `=` is currently supported, which is also the default), e.g.: =0.1.0"
    )


@pytest.mark.parametrize("text", ["zlib =abc", "zlib v1", "zlib =", "zlib -1"])
def test_version_must_start_with_a_digit(text: str) -> None:
    with pytest.raises(DependencyError, match="must start with a digit"):
        parse_dependency(text, BUILD)


def test_conditional_entry() -> None:
    entry = {
        "name": "ssl =3",
        "condition": {"has_env": "TLS", "env_eq": {"A": "b"}, "in_image": ["x", "y"]},
    }
    dependency = parse_dependency(entry, DependencyKind.RUNTIME)
    assert (dependency.name, dependency.version, dependency.text) == ("ssl", "3", "ssl =3")
    assert dependency.condition == Condition(
        has_env=("TLS",), env_eq=(("A", "b"),), in_image=("x", "y")
    )


def test_conditional_entry_without_condition_is_unconditional() -> None:
    assert parse_dependency({"name": "a 1"}, BUILD).condition is None


def test_unknown_keys_in_conditional_entries_are_rejected() -> None:
    with pytest.raises(DependencyError, match=r"unknown key 'conditon'.*did you mean 'condition'"):
        parse_dependency({"name": "a 1", "conditon": {}}, BUILD)
    with pytest.raises(DependencyError, match=r"unknown key 'condition\.in_imag'"):
        parse_dependency({"name": "a 1", "condition": {"in_imag": "x"}}, BUILD)


@pytest.mark.parametrize(
    "entry",
    [
        42,
        {"condition": {}},
        {"name": "a 1", "condition": "x"},
        {"name": "a 1", "condition": {"has_env": 1}},
        {"name": "a 1", "condition": {"env_eq": {"A": 1}}},
        {"name": "a 1", "condition": {"env_eq": "A"}},
    ],
)
def test_invalid_entries_are_rejected(entry: object) -> None:
    with pytest.raises(DependencyError):
        parse_dependency(entry, BUILD)
