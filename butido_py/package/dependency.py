"""Dependency entries of `pkg.toml` (butido-reference.md §2.1).

An entry is `"NAME VERSION"` or `{ name = "NAME VERSION", condition = { ... } }`. Matching in the
tree is exact on (name, version) after stripping the leading `=` (§2.2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from butido_py.package.condition import ConditionError, parse_condition, unknown_key_message
from butido_py.package.model import Condition, Dependency, DependencyKind

# NAME: an alphanumeric, then alphanumerics, '.', '_', '-'; exactly one space; VERSION: printable
# ASCII without blanks, checked further below.
_ENTRY = re.compile(r"([0-9A-Za-z][0-9A-Za-z._-]*) ([!-~]+)")
# After the optional '=', a version starts with a digit (butido checks only this prefix).
_VERSION = re.compile(r"=?([0-9][!-~]*)")
ENTRY_KEYS = ("name", "condition")
# butido's own message for a comparator other than '=' (dependency/mod.rs).
COMPARATOR_MESSAGE = (
    "A package version constraint must have a version and an optional comparator "
    "(only `=` is currently supported, which is also the default), e.g.: =0.1.0"
)


class DependencyError(ValueError):
    """An invalid dependency entry; the message quotes the entry."""


def parse_dependency(entry: object, kind: DependencyKind) -> Dependency:
    if isinstance(entry, str):
        return parse_dependency_text(entry, kind)
    if isinstance(entry, dict):
        return _parse_conditional(entry, kind)
    raise DependencyError(
        f'dependency entry {entry!r} must be a string "NAME VERSION" or a table '
        '{ name = "NAME VERSION", condition = { ... } }'
    )


def parse_dependency_text(
    text: str, kind: DependencyKind, condition: Condition | None = None
) -> Dependency:
    match = _ENTRY.fullmatch(text)
    if match is None:
        raise DependencyError(
            f"dependency {text!r} is not 'NAME VERSION' (one space between them, NAME made of "
            "letters, digits, '.', '_', '-')"
        )
    name, version_text = match.groups()
    version = _VERSION.fullmatch(version_text)
    if version is None:
        if version_text.removeprefix("=")[:1] in ("*", "<", ">", "="):
            raise DependencyError(f"dependency {text!r}: {COMPARATOR_MESSAGE}")
        raise DependencyError(f"dependency {text!r}: the version must start with a digit")
    return Dependency(
        name=name, version=version.group(1), kind=kind, condition=condition, text=text
    )


def _parse_conditional(entry: Mapping[object, object], kind: DependencyKind) -> Dependency:
    for key in entry:
        if key not in ENTRY_KEYS:
            raise DependencyError(unknown_key_message(str(key), ENTRY_KEYS))
    text = entry.get("name")
    if not isinstance(text, str):
        raise DependencyError('a conditional dependency needs name = "NAME VERSION"')
    condition = None
    if "condition" in entry:
        try:
            condition = parse_condition(entry["condition"])
        except ConditionError as exc:
            raise DependencyError(f"dependency {text!r}: {exc}") from exc
    return parse_dependency_text(text, kind, condition)
