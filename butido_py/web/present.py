"""Text for the templates: times, durations, rates, the highlighted script, the log's last lines."""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import BashLexer

from butido_py.logproto import LogOutcome, log_outcome, parse_log

#: Lines of a failed job's log shown first, above the whole log.
TAIL_LINES = 30
#: The Pygments style of the script (its CSS comes from `script_css`).
SCRIPT_STYLE = "default"


def when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "-"
    seconds = max(0, round((end - start).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{seconds:02d}s"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.0f} %"


def short(value: object, length: int = 8) -> str:
    return str(value)[:length]


def script_html(text: str) -> Markup:
    """The script highlighted as HTML; Pygments escapes the script's text itself."""
    formatter = HtmlFormatter(style=SCRIPT_STYLE, linenos="table", cssclass="highlight")
    return Markup(highlight(text, BashLexer(stripnl=False), formatter))  # noqa: S704 - escaped by Pygments


def script_css() -> str:
    formatter = HtmlFormatter(style=SCRIPT_STYLE)
    return str(formatter.get_style_defs(".highlight"))  # type: ignore[no-untyped-call]


def outcome(log_text: str | None) -> LogOutcome:
    """What the log says: its phase and the first error (the job page's "phase")."""
    return log_outcome(parse_log((log_text or "").encode()))


def tail(log_text: str | None, lines: int = TAIL_LINES) -> str:
    if not log_text:
        return ""
    return "\n".join(log_text.rstrip("\n").splitlines()[-lines:])
