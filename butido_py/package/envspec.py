"""`-E KEY=VALUE` arguments (build, tree-of, find-artifact), with butido's quirks fixed.

Everything after the first `=` is the value (butido cut `A=b=c` to `b`); one pair of surrounding
double quotes is removed (butido kept them); a bare `KEY` takes the value from the environment
(documented by butido, but rejected by it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class EnvSpecError(ValueError):
    """A malformed `-E` argument; the message is meant for the user."""


def parse_env_spec(spec: str, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    key, sep, value = spec.partition("=")
    if not _KEY.fullmatch(key):
        raise EnvSpecError(
            f"{spec!r}: expected KEY=VALUE where KEY starts with a letter and contains only "
            "letters, digits and '_'"
        )
    if not sep:
        if environ is None or key not in environ:
            raise EnvSpecError(f"{spec!r}: no '=VALUE' given and ${key} is not set")
        return key, environ[key]
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    return key, value


def parse_env_specs(
    specs: Iterable[str], environ: Mapping[str, str] | None = None
) -> tuple[tuple[str, str], ...]:
    """All `-E` arguments in order; a key given twice keeps its last value."""
    result: dict[str, str] = {}
    for spec in specs:
        key, value = parse_env_spec(spec, environ)
        result[key] = value
    return tuple(result.items())
