"""Package scripts: assembly of the phases, handlebars templating, the phase check (pure)."""

from __future__ import annotations

from butido_py.script.assemble import assemble_script, check_phases, unindent
from butido_py.script.context import package_context
from butido_py.script.render import render_script
from butido_py.script.template import render_template

__all__ = [
    "assemble_script",
    "check_phases",
    "package_context",
    "render_script",
    "render_template",
    "unindent",
]
