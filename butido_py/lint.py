"""Linting package scripts (butido-reference.md §5.4): the configured `script_linter` reads
each rendered script on stdin; a non-zero exit status fails that package.

Packages are linted concurrently (one thread per running linter process).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from butido_py.errors import ScriptError
from butido_py.package.model import Package
from butido_py.process import ProcessError, run
from butido_py.script.assemble import check_phases

LINTER_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class LintResult:
    package: Package
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(frozen=True, slots=True)
class ScriptSettings:
    """What rendering a script needs from the configuration."""

    phases: tuple[str, ...]
    shebang: str
    strict: bool


def find_linter(configured: Path | None, repo_root: Path) -> Path:
    """The linter executable: absolute, or relative to the repository root."""
    if configured is None:
        raise ScriptError(
            "no script linter configured",
            hint="set `script_linter` in config.toml to an executable that reads a script on "
            "stdin and exits non-zero on problems (e.g. a wrapper running `shellcheck -`)",
        )
    path = configured if configured.is_absolute() else repo_root / configured
    if not path.is_file():
        raise ScriptError(
            f"cannot find the script linter {path}",
            hint="`script_linter` in config.toml must name an executable file (absolute, or "
            "relative to the repository root)",
        )
    return path


def lint_packages(
    packages: Sequence[Package],
    *,
    linter: Path,
    settings: ScriptSettings,
    cwd: Path | None = None,
    workers: int = 0,
) -> list[LintResult]:
    """Check the phases of every package, render every script, then lint them concurrently.

    A phase mismatch or a template error is a `ScriptError` before any linter runs; the linter's
    verdicts are returned in the order of `packages`.
    """
    scripts = [(package, render_checked(package, settings)) for package in packages]
    workers = workers or min(len(scripts), (os.cpu_count() or 2) * 2) or 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lint") as pool:
        return list(pool.map(lambda item: lint_script(item[0], item[1], linter, cwd=cwd), scripts))


def render_checked(package: Package, settings: ScriptSettings) -> str:
    # Loaded here, not at the top: every command imports this module, few render scripts.
    from butido_py.script.render import render_script  # noqa: PLC0415

    check_phases(package, settings.phases)
    return render_script(
        package, phases=settings.phases, shebang=settings.shebang, strict=settings.strict
    )


def lint_script(
    package: Package, script: str, linter: Path, *, cwd: Path | None = None
) -> LintResult:
    try:
        done = run([linter], stdin=script.encode(), cwd=cwd, timeout=LINTER_TIMEOUT)
    except ProcessError as error:
        raise ScriptError(
            f"linting {package.name} {package.version}: {error.message}",
            hint="check `script_linter` in config.toml: it must be an executable file",
        ) from None
    return LintResult(
        package,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
