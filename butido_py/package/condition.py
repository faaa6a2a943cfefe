"""Conditional dependencies (butido-reference.md §2.3): parsing and evaluation.

The condition env is only the `-E` variables of the command line; `in_image` compares the full
(expanded) image name and is false when no image is known. All present keys are AND-ed.
Unknown keys are errors (butido silently ignored them, which made the condition always true).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from butido_py.package.model import Condition

CONDITION_KEYS = ("has_env", "env_eq", "in_image")


class ConditionError(ValueError):
    """An invalid condition table; the message names the offending key."""


def parse_condition(value: object) -> Condition:
    if not isinstance(value, Mapping):
        raise ConditionError("condition must be a table (has_env, env_eq, in_image)")
    for key in value:
        if key not in CONDITION_KEYS:
            raise ConditionError(unknown_key_message(str(key), CONDITION_KEYS, "condition."))
    return Condition(
        has_env=_names(value, "has_env"),
        env_eq=_pairs(value, "env_eq"),
        in_image=_names(value, "in_image"),
    )


def condition_applies(
    condition: Condition | None, env: Mapping[str, str], image: str | None
) -> bool:
    if condition is None:
        return True
    if condition.has_env is not None and not all(name in env for name in condition.has_env):
        return False
    if condition.env_eq is not None and not all(env.get(k) == v for k, v in condition.env_eq):
        return False
    return condition.in_image is None or (image is not None and image in condition.in_image)


def unknown_key_message(key: str, known: tuple[str, ...], prefix: str = "") -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean '{prefix}{close[0]}'?" if close else f"known keys: {', '.join(known)}"
    return f"unknown key '{prefix}{key}' ({hint})"


def _names(table: Mapping[object, object], key: str) -> tuple[str, ...] | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(str(v) for v in value)
    raise ConditionError(f"condition.{key} must be a string or a list of strings")


def _pairs(table: Mapping[object, object], key: str) -> tuple[tuple[str, str], ...] | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values()):
        return tuple((str(k), str(v)) for k, v in value.items())
    raise ConditionError(f'condition.{key} must be a table of strings (NAME = "value")')
