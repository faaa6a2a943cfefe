"""Package scripts: assembly of the phases, handlebars templating, the phase check (pure).

The names below are loaded on first use: the template engine (pybars3) takes about half a second
to import, which every `butido` command would pay if this package loaded it eagerly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from butido_py.script.assemble import assemble_script, check_phases, unindent
    from butido_py.script.context import package_context
    from butido_py.script.render import render_script
    from butido_py.script.template import render_template

_MODULE_OF = {
    "assemble_script": "assemble",
    "check_phases": "assemble",
    "unindent": "assemble",
    "package_context": "context",
    "render_script": "render",
    "render_template": "template",
}

__all__ = [
    "assemble_script",
    "check_phases",
    "package_context",
    "render_script",
    "render_template",
    "unindent",
]


def __getattr__(name: str) -> object:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
