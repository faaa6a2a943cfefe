"""The one channel of user warnings, with one look: `warning: <message>` on stderr, yellow on a
terminal.

Application functions warn through `Services.warn` (this module's `warn`); library code warns
through `logging` (`log.warning(...)`), whose records `install` routes here. With `--debug` a
warning also names its logger, and debug records are shown as `DEBUG <logger>: <message>`.
"""

from __future__ import annotations

import logging
import os
import sys

import click


def color_allowed() -> bool | None:
    """False when NO_COLOR is set (no-color.org) or TERM=dumb; None: click decides (colour on a
    terminal only)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return None


def echo_styled(text: str, fg: str, *, err: bool = True) -> None:
    """`text` coloured `fg` where colour is allowed."""
    click.secho(text, fg=fg, err=err, color=color_allowed())


def echo_warning(message: str) -> None:
    echo_styled(f"warning: {message}", "yellow")


class WarningHandler(logging.Handler):
    """WARNING records and worse, in the house style."""

    def __init__(self, *, debug: bool) -> None:
        super().__init__(logging.WARNING)
        self._debug = debug

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if self._debug:
                message = f"{record.name}: {message}"
            if record.levelno >= logging.ERROR:
                echo_styled(f"error: {message}", "red")
            else:
                echo_warning(message)
        except Exception:  # noqa: BLE001 - logging's contract: never raise from a handler
            self.handleError(record)


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


def install(*, debug: bool) -> None:
    """Route log records to stderr: warnings in the house style, debug records with --debug.

    Replaces what an earlier call installed (tests run several commands in one process)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "butido_cli", False)]:
        root.removeHandler(handler)
    handlers: list[logging.Handler] = [WarningHandler(debug=debug)]
    if debug:
        verbose = logging.StreamHandler(sys.stderr)
        verbose.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        verbose.addFilter(_BelowWarning())
        handlers.append(verbose)
    for handler in handlers:
        handler.butido_cli = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
