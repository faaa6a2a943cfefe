from __future__ import annotations

from typing import Any

import pytest

from butido_py.errors import RepositoryError
from butido_py.package.model import DependencyKind, HashType
from butido_py.package.parse import parse_package, resolve_path

LEAF = "a/pkg.toml"


def table(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "a",
        "version": "=1.0",
        "version_is_semver": False,
        "sources": {
            "src": {"url": "https://x.invalid/a", "hash": {"type": "sha256", "hash": "AB"}}
        },
        "dependencies": {"build": ["b 1"], "runtime": [{"name": "c 2", "condition": {}}]},
        "patches": [],
        "phases": {"build": {"script": "make"}, "empty": {"script": ""}},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def parse(data: dict[str, Any]) -> Any:
    return parse_package(data, leaf=LEAF, origin=lambda _path: LEAF, exists=lambda _p: True)


def test_a_complete_table() -> None:
    package = parse(table(environment={"A": "1"}, meta={"m": "x"}, allowed_images=["i"]))
    assert (package.name, package.version, package.pkg_toml) == ("a", "1.0", LEAF)
    assert package.sources[0].hash_type is HashType.SHA256
    assert package.sources[0].hash_value == "ab"
    assert [d.kind for d in package.dependencies] == [DependencyKind.BUILD, DependencyKind.RUNTIME]
    assert package.environment == (("A", "1"),)
    assert package.meta == (("m", "x"),)
    assert package.allowed_images == ("i",)
    assert package.denied_images is None
    assert [p.name for p in package.phases] == ["build", "empty"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"version": None}, "required key 'version' is missing"),
        ({"dependencies": {"build": []}}, "required key 'dependencies.runtime' is missing"),
        ({"version_is_semver": "no"}, "version_is_semver: must be true or false"),
        ({"name": ""}, "name: must be a non-empty string"),
        ({"patches": "x"}, "patches: must be a list of strings"),
        ({"environment": {"A": 1}}, "environment.A: must be a string"),
        ({"sources": {"src": {"url": "u", "hash": {"type": "md5", "hash": "ab"}}}}, "md5"),
        ({"sources": {"src": {"url": "u", "hash": {"type": "sha1", "hash": "xyz"}}}}, "hex"),
        ({"sources": {"src": {"url": "u", "hash": {"type": "sha1", "hsh": "a"}}}}, "hash.hash'?"),
        ({"dependencies": {"build": ["b >1"], "runtime": []}}, "only `=` is currently supported"),
        ({"dependencies": {"build": "b 1", "runtime": []}}, "must be a list"),
        ({"phases": {"build": {"script": "x", "path": "y"}}}, "exactly one of"),
        ({"phases": {"build": {}}}, "needs 'script' or 'path'"),
        ({"phases": {"build": {"scrip": "x"}}}, "did you mean 'phases.build.script'"),
        ({"sources": {"src": {"ur": "u", "hash": {}}}}, "did you mean 'sources.src.url'"),
        ({"dependencies": {"build": [], "runtime": [], "test": []}}, "'dependencies.test'"),
        ({"flags": []}, "unknown key 'flags'"),
    ],
)
def test_errors_name_the_file_and_key(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(RepositoryError, match=r"^a/pkg\.toml: ") as error:
        parse(table(**overrides))
    assert message in str(error.value)


def test_missing_required_key_has_a_hint() -> None:
    with pytest.raises(RepositoryError) as error:
        parse(table(phases=None))
    assert error.value.hint is not None
    assert "parent directory" in error.value.hint


@pytest.mark.parametrize(
    ("defining", "relative", "expected"),
    [
        ("s/19.0/pkg.toml", "foo.patch", "s/19.0/foo.patch"),
        ("s/pkg.toml", "./foo.patch", "s/foo.patch"),
        ("s/19.2/pkg.toml", "../foo.patch", "s/foo.patch"),
        ("s/19.2/pkg.toml", "../../x/./y.patch", "x/y.patch"),
        ("pkg.toml", "p/q.patch", "p/q.patch"),
    ],
)
def test_resolve_path(defining: str, relative: str, expected: str) -> None:
    assert resolve_path(defining, relative) == expected


@pytest.mark.parametrize(
    ("defining", "relative", "message"),
    [
        ("s/pkg.toml", "../../x", "escape"),
        ("pkg.toml", "../x", "escape"),
        ("s/pkg.toml", "/etc/passwd", "absolute"),
        ("s/pkg.toml", "..", "does not name a file"),
    ],
)
def test_resolve_path_errors(defining: str, relative: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_path(defining, relative)
