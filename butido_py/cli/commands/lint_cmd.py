"""`butido lint [NAME [CONSTRAINT]]`: run the configured script linter on package scripts."""

from __future__ import annotations

from pathlib import Path

import click

from butido_py.cli.context import AppContext
from butido_py.cli.options import repository_options
from butido_py.cli.warnings import color_allowed
from butido_py.errors import ScriptError
from butido_py.lint import LintResult, ScriptSettings, find_linter, lint_packages


@click.command("lint")
@click.argument("name", required=False)
@click.argument("constraint", required=False)
@repository_options
@click.pass_obj
def lint(
    app: AppContext, name: str | None, constraint: str | None, commit: str, allow_dirty: bool
) -> None:
    """Lint the rendered scripts of all packages, or of NAME (matching CONSTRAINT).

    Each script is rendered with the configured shebang and written to the stdin of the
    `script_linter` from the configuration; a non-zero exit status fails the package. Every
    package must define exactly the phases of `available_phases`.
    """
    loaded = app.loaded()
    config = loaded.config
    linter = find_linter(config.script_linter, loaded.repository_root or Path.cwd())
    repository = app.repository(commit, allow_dirty)
    packages = list(repository.packages) if name is None else repository.require(name, constraint)
    settings = ScriptSettings(
        phases=config.available_phases,
        shebang=config.shebang,
        strict=config.strict_script_interpolation,
    )
    results = lint_packages(packages, linter=linter, settings=settings, cwd=repository.root)
    failed = [result for result in results if not result.ok]
    for result in failed:
        _report(result)
    if failed:
        names = ", ".join(str(result.package) for result in failed)
        raise ScriptError(
            f"linting failed for {len(failed)} of {len(results)} packages: {names}",
            hint=f"the output of {linter} is shown above",
        )
    click.echo(f"{len(results)} package scripts linted, no problems found")


def _report(result: LintResult) -> None:
    click.secho(
        f"lint failed: {result.package} (exit status {result.returncode})",
        fg="red",
        color=color_allowed(),
    )
    for stream in (result.stdout, result.stderr):
        for line in stream.splitlines():
            click.echo(f"    {line}")


COMMANDS: tuple[click.Command, ...] = (lint,)
