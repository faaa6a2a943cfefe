"""The one seam for subprocesses: every external program butido_py starts goes through `run()`."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from butido_py.errors import ButidoError

log = logging.getLogger(__name__)


class ProcessError(ButidoError):
    """A program could not be started or did not finish in time."""


@dataclass(frozen=True, slots=True)
class ProcessResult:
    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run(
    args: Sequence[str | Path],
    *,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> ProcessResult:
    """Run a program to completion, capturing stdout and stderr; a non-zero exit is no error.

    `ProcessError` when the program cannot be started or exceeds `timeout` seconds (it is killed).
    """
    argv = tuple(str(arg) for arg in args)
    log.debug("running %s", " ".join(argv))
    try:
        done = subprocess.run(
            argv,
            input=stdin if stdin is not None else b"",
            capture_output=True,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ProcessError(f"{argv[0]} did not finish within {timeout} s") from None
    except OSError as error:
        raise ProcessError(f"cannot run {argv[0]}: {error.strerror or error}") from None
    return ProcessResult(argv, done.returncode, done.stdout, done.stderr)


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` exists on this host (a zombie does not count)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, it belongs to someone else
    except OSError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): existing is all we know
    # "pid (comm) S …": the state follows the last parenthesis (comm may contain any).
    return stat[stat.rfind(")") + 2 : stat.rfind(")") + 3] != "Z"
