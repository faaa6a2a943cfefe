"""One error hierarchy for every user-facing failure.

Each class carries a stable exit code; the CLI catches `ButidoError` in exactly one place, prints
`error: <message>` (plus `hint: <hint>` when there is one) and exits with the class's code.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """Stable exit codes; documented in docs/exit-codes.md."""

    OK = 0
    FAILURE = 1  # the operation ran and failed (a build with failed jobs, a failed check)
    USAGE = 2  # bad command line (click's own code for usage errors)
    CONFIG = 3
    REPOSITORY = 4
    DATABASE = 5
    ENDPOINT = 6
    STORE = 7
    SOURCE = 8
    SCRIPT = 9
    HUNG_UP = 129  # SIGHUP (128 + 1): the terminal or the CI runner went away
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    TERMINATED = 143  # SIGTERM (128 + 15)


class ButidoError(Exception):
    """Base of all errors a user can cause or fix; never shown with a traceback unless --debug."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(ButidoError):
    """A bad command-line value found after parsing (e.g. an unknown `-I IMAGE`)."""

    exit_code = ExitCode.USAGE


class ConfigError(ButidoError):
    exit_code = ExitCode.CONFIG


class RepositoryError(ButidoError):
    exit_code = ExitCode.REPOSITORY


class DatabaseError(ButidoError):
    exit_code = ExitCode.DATABASE


class EndpointError(ButidoError):
    exit_code = ExitCode.ENDPOINT


class StoreError(ButidoError):
    exit_code = ExitCode.STORE


class SourceError(ButidoError):
    exit_code = ExitCode.SOURCE


class ScriptError(ButidoError):
    exit_code = ExitCode.SCRIPT


def did_you_mean(word: str, known: Iterable[str]) -> str | None:
    """`did you mean 'desktop'?` for a mistyped name, when one known name is close enough."""
    import difflib  # noqa: PLC0415 - only for an error

    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None
