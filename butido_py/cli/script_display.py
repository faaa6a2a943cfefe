"""Showing scripts and logs to people: highlighted, line-numbered scripts; coloured logs.

butido's theme names (syntect) are mapped to Pygments styles (`SCRIPT_THEMES`); Pygments style
names are accepted too. Unlike butido, highlighting needs no configured theme (a default is
used), and line numbers without highlighting keep the line breaks.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TextIO

from pygments import highlight
from pygments.formatters import Terminal256Formatter
from pygments.lexers import BashLexer
from pygments.styles import get_all_styles

from butido_py.config.settings import SCRIPT_THEMES
from butido_py.errors import ConfigError
from butido_py.logproto import LogRecord, display_form

DEFAULT_THEME = "base16-ocean.dark"


def format_script(text: str, *, line_numbers: bool, highlighting: bool, theme: str | None) -> str:
    """The script for a terminal: highlighted (ANSI 256 colours) and/or with line numbers."""
    if highlighting:
        style = pygments_style(theme)
        lexer = BashLexer(stripnl=False, ensurenl=False)
        text = highlight(text, lexer, Terminal256Formatter(style=style))
    if not line_numbers:
        return text
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return "".join(f"{number:>4} | {line}\n" for number, line in enumerate(lines, 1))


def pygments_style(theme: str | None) -> str:
    """The Pygments style for a butido theme name or a Pygments style name."""
    name = theme or DEFAULT_THEME
    if name in SCRIPT_THEMES:
        return SCRIPT_THEMES[name]
    styles = sorted(get_all_styles())
    if name in styles:
        return name
    raise ConfigError(
        f"script highlight theme not known: {name!r}",
        hint="use one of butido's themes ("
        + ", ".join(SCRIPT_THEMES)
        + ") or a Pygments style ("
        + ", ".join(styles)
        + ")",
    )


def use_color(stream: TextIO | None = None) -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream if stream is not None else sys.stdout
    return stream.isatty()


def format_log(records: Iterable[LogRecord], *, color: bool) -> str:
    """A job's log for display: one line per record, markers coloured when `color` is set."""
    return display_form(records, color=color)
