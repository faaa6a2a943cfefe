"""Template helpers (byte-exact output) and the values templates see.

butido's helpers (`phase`, `state`, `progress`, `join`, `joinwith`, src/package/script.rs) and the
built-in helpers of handlebars-rust that pybars lacks (`eq`, `ne`, `gt`, `gte`, `lt`, `lte`, `and`,
`or`, `not`, `len`). pybars calls a helper with the current scope first, then the parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, cast

import pybars
from pybars._compiler import _each as _pybars_each
from pybars._compiler import _with as _pybars_with


class TemplateError(Exception):
    """A render-time failure (missing variable in strict mode, bad helper parameter)."""


class Missing:
    """What a path that does not exist resolves to: falsy, renders as an error or nothing."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __bool__(self) -> bool:
        return False

    def __call__(self, _this: object, *args: object) -> Missing:
        # pybars calls a looked-up value that is callable: `{{name arg}}` lands here when `name`
        # is neither a helper nor a variable, which handlebars-rust rejects in every mode.
        if args:
            raise TemplateError(f"helper not defined: `{self.path}`")
        return self

    def __repr__(self) -> str:
        return f"Missing({self.path!r})"


def render_json(value: object) -> str:  # noqa: PLR0911 - one return per JSON type
    """A value as handlebars-rust renders it (`JsonRender`)."""
    if isinstance(value, pybars.Scope):
        return render_json(value.context)
    if value is None or isinstance(value, Missing):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render_json(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "[object]"
    return str(value)


# --- butido's helpers (src/package/script.rs), byte-exact output ---------------------------


def _string_param(args: tuple[object, ...], index: int, what: str) -> str:
    if len(args) <= index:
        raise TemplateError(f"required parameter missing: {what}")
    value = args[index]
    if not isinstance(value, str):
        raise TemplateError(f"required parameter must be a string: {what}, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    if isinstance(value, Missing):
        return f"missing variable `{value.path}`"
    return repr(render_json(value))


def _phase(_this: object, *args: object) -> str:
    return "echo '#BUTIDO:PHASE:" + _string_param(args, 0, "phase name") + "'"


def _state(_this: object, *args: object) -> str:
    state = _string_param(args, 0, "state")
    if state == "OK":
        return "echo '#BUTIDO:STATE:OK'"
    if state == "ERR":
        if len(args) < 2:
            raise TemplateError("required parameter missing: state message")
        return "echo '#BUTIDO:STATE:ERR:" + render_json(args[1]) + "'"
    raise TemplateError(f"parameter must be either 'OK' or 'ERR', {state!r} is invalid")


def _progress(_this: object, *args: object) -> str:
    if not args:
        raise TemplateError("required parameter missing: progress")
    value = args[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TemplateError(f"required parameter must be a number: progress, got {_kind(value)}")
    return f"echo '#BUTIDO:PROGRESS:{value}'"


def _join(_this: object, *args: object) -> str:
    return "".join(_all_strings(args))


def _joinwith(_this: object, *args: object) -> str:
    joiner = _string_param(args, 0, "join string")
    return joiner.join(_all_strings(args[1:]))


def _all_strings(args: tuple[object, ...]) -> list[str]:
    bad = [arg for arg in args if not isinstance(arg, str)]
    if bad:
        raise TemplateError(f"all parameters must be strings, got {_kind(bad[0])}")
    return cast(list[str], list(args))


# --- handlebars-rust's built-in helpers that pybars lacks (helpers/helper_extras.rs) --------


def _json(value: object) -> object:
    """A parameter as the JSON value handlebars-rust sees (a missing value is null)."""
    if isinstance(value, Missing):
        return None
    if isinstance(value, pybars.Scope):
        return _json(value.context)
    return value


def _two(args: tuple[object, ...], name: str) -> tuple[object, object]:
    if len(args) < 2:
        raise TemplateError(f"helper {name}: two parameters required")
    return _json(args[0]), _json(args[1])


def _integers(args: tuple[object, ...], name: str) -> tuple[int, int]:
    first, second = _two(args, name)
    for value in (first, second):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TemplateError(f"helper {name}: parameters must be integers, got {value!r}")
    return cast(int, first), cast(int, second)


def _eq(_this: object, *args: object) -> bool:
    first, second = _two(args, "eq")
    return type(first) is type(second) and first == second


def _ne(_this: object, *args: object) -> bool:
    return not _eq(_this, *args)


def _gt(_this: object, *args: object) -> bool:
    first, second = _integers(args, "gt")
    return first > second


def _gte(_this: object, *args: object) -> bool:
    first, second = _integers(args, "gte")
    return first >= second


def _lt(_this: object, *args: object) -> bool:
    first, second = _integers(args, "lt")
    return first < second


def _lte(_this: object, *args: object) -> bool:
    first, second = _integers(args, "lte")
    return first <= second


def _and(_this: object, *args: object) -> bool:
    return all(bool(_json(arg)) for arg in args)


def _or(_this: object, *args: object) -> bool:
    return any(bool(_json(arg)) for arg in args)


def _not(_this: object, *args: object) -> bool:
    if not args:
        raise TemplateError("helper not: a parameter is required")
    return not _json(args[0])


def _len(_this: object, *args: object) -> int:
    value = _json(args[0]) if args else None
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, list | tuple | Mapping):
        return len(value)
    return 0


# --- block parameters (`{{#each xs as |x i|}}`, `{{#with x as |y|}}`) ----------------------
# pybars has no block parameters; the template module rewrites `as |x i|` into one string
# parameter starting with BLOCK_PARAMS_MARK, and these helpers bind the names in the scope's
# overrides (template lookup searches the overrides of enclosing scopes, as handlebars does).

BLOCK_PARAMS_MARK: Final = "\u2063as|"


def _block_names(args: tuple[object, ...]) -> tuple[object, tuple[str, ...]] | None:
    if len(args) == 2 and isinstance(args[1], str) and args[1].startswith(BLOCK_PARAMS_MARK):
        return args[0], tuple(args[1][len(BLOCK_PARAMS_MARK) :].split())
    return None


def _each(this: object, options: Mapping[str, Any], *args: object) -> object:
    bound = _block_names(args)
    if bound is None:
        return _pybars_each(this, options, *args)
    items, names = bound
    items = _json(items)
    if not isinstance(items, list | tuple | Mapping) or not items:
        return options["inverse"](this)
    pairs = list(items.items()) if isinstance(items, Mapping) else list(enumerate(items))
    result = pybars.strlist()
    last = len(pairs) - 1
    for index, (key, value) in enumerate(pairs):
        overrides = dict(zip(names, (value, key), strict=False))
        scope = pybars.Scope(
            value, this, options["root"], overrides=overrides, index=index,
            key=key if isinstance(items, Mapping) else None, first=index == 0, last=index == last,
        )  # fmt: skip
        result.grow(options["fn"](scope))
    return result


def _with(this: object, options: Mapping[str, Any], *args: object) -> object:
    bound = _block_names(args)
    if bound is None:
        return _pybars_with(this, options, *args)
    value, names = bound
    if not _json(value):
        return options["inverse"](this)
    overrides = dict(zip(names, (value,), strict=False))
    return options["fn"](pybars.Scope(value, this, options["root"], overrides=overrides))


HELPERS: Final[dict[str, Callable[..., object]]] = {
    "each": _each,
    "with": _with,
    "phase": _phase,
    "state": _state,
    "progress": _progress,
    "join": _join,
    "joinwith": _joinwith,
    "eq": _eq,
    "ne": _ne,
    "gt": _gt,
    "gte": _gte,
    "lt": _lt,
    "lte": _lte,
    "and": _and,
    "or": _or,
    "not": _not,
    "len": _len,
}
