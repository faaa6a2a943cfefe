"""Script assembly (butido-reference.md §5.1): the package's phases joined into one template.

The text produced here is the handlebars template that `template.py` renders. It must be
byte-identical to butido's, because the rendered script is part of every job key.
"""

from __future__ import annotations

from collections.abc import Sequence

from butido_py.errors import ScriptError
from butido_py.package.model import Package


def unindent(text: str) -> str:
    """butido's `unindent("\\n" + text)` (the `unindent` crate), byte for byte.

    The common leading whitespace (spaces and tabs, one column each) of all lines that are not
    whitespace-only is removed; whitespace-only lines shorter than that become empty; a trailing
    newline is kept.
    """
    lines = ("\n" + text).split("\n")
    indents = [_leading_blanks(line) for line in lines[1:]]
    spaces = min((n for n in indents if n is not None), default=0)
    # The first element is the empty line before the text: it is dropped, as the crate does.
    return "\n".join(line[spaces:] if len(line) > spaces else "" for line in lines[1:])


def _leading_blanks(line: str) -> int | None:
    """Number of leading spaces/tabs, or None for a line of only spaces and tabs."""
    stripped = line.lstrip(" \t")
    return len(line) - len(stripped) if stripped else None


def assemble_phase(name: str, script: str | None) -> str:
    """One phase block: the unindented script between markers, or the missing-phase comment."""
    if script is None:
        return f"# No script for phase: {name}\n"
    return f"### phase {name}\n{unindent(script)}\n### / {name} phase\n\n"


def assemble_script(package: Package, *, phases: Sequence[str], shebang: str) -> str:
    """The whole template: shebang line, then one block per configured phase, in that order.

    `{ path = ... }` phases carry the file's content in `Phase.script` (read from the pinned
    commit by the loader) and are assembled like inline scripts (butido emitted an `exit 1` stub).
    """
    return "".join(assemble_blocks(package, phases=phases, shebang=shebang))


def assemble_blocks(package: Package, *, phases: Sequence[str], shebang: str) -> list[str]:
    """The pieces of `assemble_script` (shebang line, then one piece per phase)."""
    blocks = [f"{shebang}\n"]
    for name in phases:
        phase = package.phase(name)
        blocks.append(assemble_phase(name, None if phase is None else phase.script))
    return blocks


def check_phases(package: Package, available_phases: Sequence[str]) -> None:
    """The package must define exactly the configured phases (butido's `all_phases_available`)."""
    where = f" ({package.pkg_toml})" if package.pkg_toml else ""
    defined = [phase.name for phase in package.phases]
    unknown = [name for name in defined if name not in set(available_phases)]
    if unknown:
        raise ScriptError(
            f"package {package.name} {package.version}{where}: phase {unknown[0]!r} is not "
            "configured in available_phases",
            hint=f"add {unknown[0]!r} to `available_phases` in config.toml, or remove the phase "
            "from the package (or the parent pkg.toml that defines it)",
        )
    missing = [name for name in available_phases if name not in set(defined)]
    if missing:
        raise ScriptError(
            f"package {package.name} {package.version}{where}: configured phase {missing[0]!r} "
            "is not defined",
            hint=f"define [phases] {missing[0]}.script in the package or a parent pkg.toml, "
            "or remove it from `available_phases` in config.toml",
        )
