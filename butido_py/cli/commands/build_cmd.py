"""`butido build NAME [VERSION] -I IMAGE`: build a package and its dependency tree."""

from __future__ import annotations

from pathlib import Path

import click

from butido_py.cli.build_report import (
    cancel_on_signals,
    check_options,
    echo_result,
    exit_code,
    listener_for,
    run_options,
)
from butido_py.cli.commands.repo_cmd import env_option
from butido_py.cli.context import AppContext
from butido_py.cli.options import repository_options


@click.command("build")
@click.argument("name")
@click.argument("version", required=False)
@click.option(
    "-I",
    "--image",
    required=True,
    metavar="IMAGE",
    help="Image to build in (full or short name from config).",
)
@env_option("Pass a variable to every job (overrides the package's environment); repeatable.")
@check_options
@click.option("--shebang", metavar="BANG", help="Shebang line of the scripts (default: config).")
@click.option("--no-reuse", is_flag=True, help="Run every job, even when an earlier one matches.")
@run_options
@repository_options
@click.pass_context
def build(
    ctx: click.Context,
    name: str,
    version: str | None,
    image: str,
    env: tuple[tuple[str, str], ...],
    no_verify: bool,
    no_lint: bool,
    staging_dir: Path | None,
    shebang: str | None,
    write_log: bool,
    endpoints: tuple[str, ...],
    no_reuse: bool,
    keep_containers: bool,
    as_json: bool,
    commit: str,
    allow_dirty: bool,
) -> None:
    """Build package NAME (exactly VERSION, if given) and everything it depends on in IMAGE.

    Everything is checked before anything is written: the package and its dependency tree,
    source hashes, lint, phases, allowed images and environment names, and that every endpoint
    answers and has the image. Then the plan is recorded and the jobs run in containers on the
    endpoints, as many in parallel as `maxjobs` allows. A job whose inputs match an earlier
    successful job whose artifacts still exist is reused instead of run. Ctrl-C stops the build
    and removes its containers; so does SIGTERM.

    Exit status: 0 when every job succeeded or was reused, 1 when a job failed, 130 on Ctrl-C,
    143 on SIGTERM.
    """
    from butido_py.app.build import BuildRequest, build  # noqa: PLC0415

    app: AppContext = ctx.obj
    request = BuildRequest(
        name=name,
        version=version,
        image=image,
        env=env,
        verify=not no_verify,
        lint=not no_lint,
        staging_dir=staging_dir,
        shebang=shebang,
        write_log=write_log,
        endpoints=endpoints,
        reuse=not no_reuse,
        keep_containers=keep_containers,
        commit=commit,
        allow_dirty=allow_dirty,
    )
    services = app.services()
    with cancel_on_signals() as interruption:
        result = build(request, services, listener_for(app, as_json=as_json), interruption.cancel)
    echo_result(result, as_json=as_json)
    ctx.exit(exit_code(result, interruption))


COMMANDS: tuple[click.Command, ...] = (build,)
