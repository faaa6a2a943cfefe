"""`butido build NAME [VERSION] -I IMAGE`: build a package and its dependency tree."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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
from butido_py.cli.explain_report import echo_dry_run, echo_explanations, explain_json
from butido_py.cli.options import repository_options, timeout_option

if TYPE_CHECKING:
    from butido_py.app.build import BuildRequest
    from butido_py.app.dry_run import DryRun
    from butido_py.app.services import Services
    from butido_py.orchestrator.model import BuildResult


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
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check and plan, then print each job's decision (reuse or run); record and run nothing.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Say why each job runs: what differs from the nearest earlier job of its package.",
)
@click.option(
    "--priority",
    type=int,
    default=0,
    show_default=True,
    metavar="N",
    help="Get endpoint slots before builds of lower priority when they are short "
    "(every butido process sharing the database).",
)
@run_options
@timeout_option
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
    dry_run: bool,
    explain: bool,
    keep_containers: bool,
    as_json: bool,
    commit: str,
    allow_dirty: bool,
    timeout: float | None,
    priority: int,
) -> None:
    """Build package NAME (exactly VERSION, if given) and everything it depends on in IMAGE.

    Everything is checked before anything is written: the package and its dependency tree,
    source hashes, lint, phases, allowed images and environment names, and that the endpoints
    answer and have the image (one that does not answer is left out with a warning). Then the
    plan is recorded and the jobs run in containers, as many in parallel as `maxjobs` allows
    across every butido process sharing the database (short slots go to the highest --priority,
    then round-robin between builds). A job whose inputs match an earlier successful job whose
    artifacts still exist is reused instead of run. Ctrl-C, SIGTERM and SIGHUP stop the build.

    --explain says why each job runs (what differs from the nearest earlier job of its package);
    --dry-run says what would run, recording and running nothing.

    Exit status: 0 all succeeded or reused, 1 a job failed, 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP.

    \b
    Examples:
      butido build desktop 1.0 -I deb12
      butido build zlib -I deb12 --dry-run --explain
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
        timeout=timeout,
        priority=priority,
    )
    services = _services(app, dry_run=dry_run)
    if dry_run:
        echo_dry_run(_plan_only(request, services), as_json=as_json, explain=explain)
        return
    with cancel_on_signals() as interruption:
        listener = listener_for(app, as_json=as_json, interruption=interruption)
        result = build(request, services, listener, interruption.cancel)
    _report(result, services, as_json=as_json, explain=explain)
    ctx.exit(exit_code(result, interruption))


def _services(app: AppContext, *, dry_run: bool) -> Services:
    app.recover = not dry_run  # a dry run writes nothing, not even crash recovery
    return app.services()


def _plan_only(request: BuildRequest, services: Services) -> DryRun:
    from butido_py.app.dry_run import dry_run  # noqa: PLC0415

    return dry_run(request, services)


def _report(result: BuildResult, services: Services, *, as_json: bool, explain: bool) -> None:
    """The report or JSON summary; with `explain`, why each job ran."""
    if not explain:
        echo_result(result, as_json=as_json)
        return
    from butido_py.app.explain import explain_jobs  # noqa: PLC0415

    why = explain_jobs(services.database(), [job.uuid for job in result.jobs])
    echo_result(result, as_json=as_json, extra={"explain": explain_json(why)})
    if not as_json:
        echo_explanations(why)


COMMANDS: tuple[click.Command, ...] = (build,)
