"""A package's rendered script: assembly (§5.1) plus templating (§5.2)."""

from __future__ import annotations

from collections.abc import Sequence

from butido_py.errors import ScriptError
from butido_py.package.model import Package
from butido_py.script.assemble import assemble_blocks
from butido_py.script.context import package_context
from butido_py.script.template import Renderer, compile_template, render_compiled


def render_script(package: Package, *, phases: Sequence[str], shebang: str, strict: bool) -> str:
    """The script that runs in the container and is stored with the job (NUL bytes removed).

    `ScriptError` names the package and version when a template fails.
    """
    blocks = assemble_blocks(package, phases=phases, shebang=shebang)
    context = package_context(package)
    try:
        text = "".join(render_compiled(r, context, strict=strict) for r in _compiled(blocks))
    except ScriptError as error:
        raise ScriptError(
            f"rendering the script of package {package.name} {package.version} failed: "
            f"{error.message}",
            hint=_hint(package, strict=strict),
        ) from None
    return text.replace("\0", "")


def _compiled(blocks: list[str]) -> list[Renderer]:
    """Each block compiled on its own when possible, so shared phases are compiled only once.

    Rendering the blocks one by one gives the same text as rendering the whole script, because
    standalone-line handling works line by line and blocks end with a line break. A template that
    spans blocks (a `{{#if}}` opened in one phase and closed in another) or uses `~` whitespace
    control across block borders is compiled as a whole.
    """
    if not any("~}}" in block or "{{~" in block for block in blocks):
        try:
            return [compile_template(block) for block in blocks]
        except ScriptError:
            pass
    return [compile_template("".join(blocks))]


def _hint(package: Package, *, strict: bool) -> str:
    where = package.pkg_toml or "the package's pkg.toml"
    if strict:
        return (
            f"fix the phase scripts in {where} (or a parent pkg.toml); "
            "`strict_script_interpolation = false` renders missing variables as empty text"
        )
    return f"fix the phase scripts in {where} (or a parent pkg.toml)"
