"""Handlebars templating of package scripts (butido-reference.md §5.2) on top of pybars3.

pybars3 compiles a template to Python code; we keep its parser and code generator and replace
three pieces of its runtime (through the compiled module's globals):

- path lookup works on JSON-like data only and returns a `Missing` marker instead of raising on
  an index out of range or silently calling dict methods;
- output expressions render values the way handlebars-rust does (`true`, `[a, b]`, `[object]`),
  never HTML-escaped, and in strict mode a `Missing` value is an error naming the variable; block
  and helper parameters (`{{#if this.patches[0]}}`) only see a falsy `Missing`, as in butido;
- standalone lines (a block tag alone on its line) are removed like the handlebars spec and
  handlebars-rust do, instead of pybars' own approximation;
- spaces inside block tags (`{{~ #if x }}`, `{{ /if ~}}`, butido's own default
  `package_print_format` has them) are removed before pybars parses the template;
- block parameters (`{{#each xs as |x i|}}`, `{{#with x as |y|}}`) become one marked string
  parameter of our `each`/`with` helpers, which bind the names (helpers.py).

pybars3 parses butido's `this.patches[0]` and the standard `this.patches.[0]` natively.
Compiled templates are cached by their text; compiling is serialised because pybars' compiler
keeps its state in class attributes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Final, cast

import pybars

from butido_py.errors import ScriptError
from butido_py.script.helpers import (
    BLOCK_PARAMS_MARK,
    HELPERS,
    Missing,
    TemplateError,
    render_json,
)

_COMPILE_LOCK: Final = threading.Lock()
_STRICT: ContextVar[bool] = ContextVar("butido_template_strict", default=True)

#: A block tag ({{#x}}, {{^x}}, {{/x}}, {{else}}, {{^}}) or a comment, with optional `~` marks.
_TAG: Final = r"\{\{~?(?:[#^/!][^{}]*|else(?:\s[^{}]*)?|\^)~?\}\}"
_STANDALONE_LINE: Final = re.compile(rf"^[ \t]*({_TAG})[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
_TRIM_AFTER: Final = re.compile(r"~\}\}\s*")
_TRIM_BEFORE: Final = re.compile(r"\s*\{\{~")
#: Spaces between `{{`, `~` and a block sigil, and before `~}}`/`}}` of a block tag.
_SPACE_BEFORE_SIGIL: Final = re.compile(r"\{\{(~?)[ \t]+(?=[#^/]|else\b)")
_SPACE_AFTER_SIGIL: Final = re.compile(r"(\{\{~?[#^/])[ \t]+")
_SPACE_BEFORE_CLOSE: Final = re.compile(r"(\{\{~?(?:[#^/]|else\b)[^{}]*?)[ \t]+(~?\}\})")
_BLOCK_PARAMS: Final = re.compile(r"(\{\{~?#\w[^{}|]*?)[ \t]+as[ \t]+\|([\w \t]+)\|(~?\}\})")
_NEAR: Final = re.compile(r" near (.*)$", re.DOTALL)
#: Comments and raw blocks (skipped), and block open/close tags, for the balance check.
_BLOCK_TAGS: Final = re.compile(
    r"\{\{!--.*?--\}\}|\{\{!.*?\}\}|\{\{\{\{.*?\}\}\}\}"
    r"|\{\{~?\s*(?P<kind>[#^/])\s*(?P<name>[^\s}~]*)[^}]*\}\}",
    re.DOTALL,
)

Renderer = Callable[..., Any]


def render_template(template: str, context: Mapping[str, object], *, strict: bool) -> str:
    """Render a handlebars template with `context` as `this` (HTML escaping off).

    In strict mode an output expression naming a missing variable raises `ScriptError`.
    """
    return render_compiled(compile_template(template), context, strict=strict)


def compile_template(template: str) -> Renderer:
    """The compiled template (cached by text); `ScriptError` on a syntax error."""
    return _compile_cached(template)


def render_compiled(render: Renderer, context: Mapping[str, object], *, strict: bool) -> str:
    token = _STRICT.set(strict)
    try:
        return cast(str, render(dict(context), helpers=HELPERS))
    except (TemplateError, pybars.PybarsError) as error:
        raise ScriptError(str(error)) from None
    finally:
        _STRICT.reset(token)


@lru_cache(maxsize=1024)
def _compile_cached(template: str) -> Renderer:
    check_blocks(template)
    with _COMPILE_LOCK:
        try:
            render = _COMPILER.compile(template)
        except pybars.PybarsError as error:
            raise ScriptError(_syntax_message(template, str(error))) from None
    # The compiled module imported pybars' runtime functions; swap in ours (see module doc).
    render.__globals__["resolve"] = _resolve
    render.__globals__["prepare"] = _prepare
    return cast(Renderer, render)


class _Compiler(pybars.Compiler):  # type: ignore[misc]
    def whitespace_control(self, source: str) -> str:
        return strip_standalone(source)

    def _generate_code(self, source: str) -> Any:
        # pybars' own version reports no error when its parser stops early (an unclosed tag):
        # the rest of the template would silently vanish. Check the consumed length instead.
        source = self.whitespace_control(source)
        grammar = self._handlebars(source)
        tree, _ = grammar.apply("template")
        position = grammar.input.position
        if position < len(source):
            raise pybars.PybarsError(f"Error near {source[position : position + 30]}")
        self._compiler.globals["builder"]._reset()
        return self._compiler(tree).apply("compile")[0]


_COMPILER: Final = _Compiler()


def normalize_tags(source: str) -> str:
    """Block tags without inner spaces, and block parameters as a marked string parameter."""
    source = _SPACE_BEFORE_SIGIL.sub(r"{{\1", source)
    source = _SPACE_AFTER_SIGIL.sub(r"\1", source)
    source = _SPACE_BEFORE_CLOSE.sub(r"\1\2", source)
    return _BLOCK_PARAMS.sub(
        lambda m: f'{m.group(1)} "{BLOCK_PARAMS_MARK}{" ".join(m.group(2).split())}"{m.group(3)}',
        source,
    )


def strip_standalone(source: str) -> str:
    """Remove the whitespace and line break around block tags alone on their line, then `~`."""
    source = normalize_tags(source)
    source = _STANDALONE_LINE.sub(lambda match: match.group(1), source)
    source = _TRIM_AFTER.sub("}}", source)
    return _TRIM_BEFORE.sub("{{", source)


def check_blocks(template: str) -> None:
    """Every block tag is closed, by its own name (pybars silently drops an unclosed block)."""
    stack: list[tuple[str, int]] = []
    for match in _BLOCK_TAGS.finditer(template):
        kind, name = match.group("kind"), match.group("name")
        if kind is None or (kind == "^" and not name):
            continue  # a comment, a raw block or `{{^}}` (else)
        line = template.count("\n", 0, match.start()) + 1
        if kind != "/":
            stack.append((name, line))
        elif not stack:
            raise ScriptError(
                f"template syntax error in line {line}: {{{{/{name}}}}} closes no block"
            )
        elif stack[-1][0] != name:
            opened, opened_line = stack[-1]
            raise ScriptError(
                f"template syntax error in line {line}: {{{{/{name}}}}} closes "
                f"{{{{#{opened}}}}} of line {opened_line}"
            )
        else:
            stack.pop()
    if stack:
        name, line = stack[-1]
        raise ScriptError(f"template syntax error: {{{{#{name}}}}} of line {line} is not closed")


def _syntax_message(template: str, pybars_message: str) -> str:
    match = _NEAR.search(pybars_message)
    if match is None:
        return f"template syntax error: {pybars_message}"
    near = match.group(1).split("\n")[0]
    line = next(
        (number for number, text in enumerate(template.split("\n"), 1) if near in text), None
    )
    where = f" in line {line}" if line is not None else ""
    return f"template syntax error{where} near {near!r}"


# --- runtime ------------------------------------------------------------------------------


def _resolve(context: object, *segments: str) -> object:
    if segments == ("",) and isinstance(context, pybars.Scope):
        return context.get("this")
    value = context
    for segment in segments:
        if not segment:
            continue
        value = _step(value, segment)
        if isinstance(value, Missing):
            return Missing(_path_text(segments))
    return value


def _step(value: object, segment: str) -> object:
    if isinstance(value, pybars.Scope):
        if segment.startswith("@") or (value.overrides and segment in value.overrides):
            found = value.get(segment)
            return Missing(segment) if found is None else found
        bound = _block_parameter(value, segment)
        if bound is not None:
            return bound
        value = value.context
        while isinstance(value, pybars.Scope):
            value = value.context
    if isinstance(value, Mapping):
        return value[segment] if segment in value else Missing(segment)
    if isinstance(value, list | tuple):
        if segment == "length":
            return len(value)
        if segment.isascii() and segment.isdigit() and int(segment) < len(value):
            return value[int(segment)]
    return Missing(segment)


def _block_parameter(scope: pybars.Scope, name: str) -> object | None:
    """`name` bound as a block parameter by an enclosing block (they are lexically scoped)."""
    parent = scope.parent
    while isinstance(parent, pybars.Scope):
        if parent.overrides and name in parent.overrides:
            return cast(object, parent.overrides[name])
        parent = parent.parent
    return None


def _path_text(segments: tuple[str, ...]) -> str:
    parts = ["this" if not segments[0] else segments[0]]
    for segment in segments[1:]:
        if segment.isdigit():
            parts[-1] += f"[{segment}]"
        elif segment:
            parts.append(segment)
    return ".".join(parts)


def _prepare(value: object, _should_escape: bool) -> object:
    if type(value) is str or type(value) is pybars.strlist:
        return value
    if isinstance(value, Missing):
        if _STRICT.get():
            raise TemplateError(f"variable `{value.path}` not found (strict mode)")
        return ""
    return render_json(value)
