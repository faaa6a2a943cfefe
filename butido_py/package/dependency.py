"""Dependency entries of `pkg.toml` (butido-reference.md §2.1).

An entry is `"NAME VERSION"` or `{ name = "NAME VERSION", condition = { ... } }`. Matching in the
tree is exact on (name, version) after stripping the leading `=` (§2.2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from butido_py.package.condition import ConditionError, parse_condition, unknown_key_message
from butido_py.package.model import Condition, Dependency, DependencyKind

# NAME: an alphanumeric, then alphanumerics, '.', '_', '-'; exactly one space; VERSION: an
# optional comparator character, an alphanumeric, then printable ASCII without blanks.
_ENTRY = re.compile(r"([0-9A-Za-z][0-9A-Za-z._-]*) ([*=<>]?[0-9A-Za-z][!-~]*)")
ENTRY_KEYS = ("name", "condition")
_COMPARATOR_HINT = (
    "a dependency version is exact: write 'NAME VERSION' or 'NAME =VERSION' "
    "(only '=' is supported, e.g. \"zlib =1.3.1\")"
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
    name, version = match.groups()
    if version[0] in "*<>":
        raise DependencyError(f"dependency {text!r}: {_COMPARATOR_HINT}")
    version = version.removeprefix("=")
    if not version[0].isdigit():
        raise DependencyError(f"dependency {text!r}: the version must start with a digit")
    return Dependency(name=name, version=version, kind=kind, condition=condition, text=text)


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
