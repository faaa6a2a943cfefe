"""One error hierarchy for every user-facing failure.

Each class carries a stable exit code; the CLI catches `ButidoError` in exactly one place, prints
`error: <message>` (plus `hint: <hint>` when there is one) and exits with the class's code.
"""

from __future__ import annotations

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
