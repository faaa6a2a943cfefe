from __future__ import annotations

import pytest

from butido_py.package.constraint import parse_constraint


@pytest.mark.parametrize(
    ("constraint", "version", "expected"),
    [
        ("=19.0", "19.0", True),
        ("=19", "19.0", False),
        ("=1.0+git~rc", "1.0+git~rc", True),
        ("19", "19.0", True),
        ("19", "19.3", True),
        ("19", "190.0", False),
        ("19", "20", False),
        ("1.2", "1.2.7", True),
        ("1.2", "1.3.0", False),
        ("1.2.3", "1.2.3", True),
        ("1.2.3", "1.2.4", False),
        ("1", "1.0.2a", True),
        ("1.0.2", "1.0.2a", True),
        ("2", "v2", True),
        ("1.2.3-rc1", "1.2.3-rc1", True),
        ("1.2.3", "1.2.3-rc1", False),
        ("1.2", "1.2.0-rc1", False),
        ("1.0.0", "1.0.0+build5", True),
        # butido crashed on these versions; they fall back to exact matching
        ("1", "1.0+git~rc", False),
        ("1.0+git~rc", "1.0+git~rc", True),
        ("1.0+git~rc", "1.0+git~rc2", False),
        # constraints that are not semver are exact
        ("abc", "abc", True),
        ("01", "1.0", False),
        ("01", "01", True),
        # wildcards stand for a missing part (semver: `=1.x` is `=1`)
        ("1.x", "1.2", True),
        ("1.x", "2.0", False),
        ("1.2.*", "1.2.9", True),
        ("1.X.x", "1.7.0", True),
        ("1.2.X", "1.3.0", False),
        ("1.*.3", "1.*.3", True),  # not a requirement: exact
        ("1.*.3", "1.2.3", False),
        ("1.2.x-rc1", "1.2.0", False),
    ],
)
def test_matches(constraint: str, version: str, expected: bool) -> None:
    assert parse_constraint(constraint).matches(version) is expected


@pytest.mark.parametrize("version", ["", "~", "1.0+git~rc", "ü", "1..2", "-", "+", "99999999999"])
def test_matching_never_raises(version: str) -> None:
    for constraint in ("1", "=1", "1.0.0", "x", "", "99999999999"):
        parse_constraint(constraint).matches(version)


def test_text_is_kept() -> None:
    assert str(parse_constraint("=1.2")) == "=1.2"
