"""`butido build NAME [VERSION] -I IMAGE`: build a package and its dependency tree."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from butido_py.cli.build_report import (
    cancel_on_signals,
    check_options,
    echo_group_result,
    group_exit_code,
    group_listener,
    run_options,
)
from butido_py.cli.commands.repo_cmd import env_option
from butido_py.cli.context import AppContext
from butido_py.cli.explain_report import echo_dry_run, echo_explanations, explain_json
from butido_py.cli.options import repository_options, timeout_option
from butido_py.errors import ButidoError

if TYPE_CHECKING:
    from butido_py.app.explain import JobExplanation
    from butido_py.app.group_build import GroupRequest, GroupResult
    from butido_py.app.services import Services
    from butido_py.orchestrator.model import BuildResult


@click.command("build")
@click.argument("name")
@click.argument("version", required=False)
@click.option(
    "-I",
    "--image",
    "images",
    multiple=True,
    metavar="IMAGE",
    help="Image to build in (full or short name from config); repeatable: one submit per image, "
    "all in one group.",
)
@click.option(
    "--all-images",
    is_flag=True,
    help="Build in every configured image the package tree may use (allowed/denied_images).",
)
@click.option(
    "--all-or-nothing",
    is_flag=True,
    help="Run nothing when an image is refused: the package tree may not use it, or an endpoint "
    "lacks it (default: build in the others, report the refused one).",
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
    images: tuple[str, ...],
    all_images: bool,
    all_or_nothing: bool,
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

    Several -I (or --all-images) make one group (`butido db group UUID`): a submit per image,
    checked together, run at the same time; an image the package tree may not use, or one an
    endpoint lacks, is refused alone (--all-or-nothing: nothing runs). --explain says why each
    job runs; --dry-run says what would run. Exit status: 0 all succeeded or reused, 1 a job
    failed (a group: the highest of its images'), 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP.

    \b
    Examples: butido build desktop 1.0 -I deb11 -I deb12
              butido build zlib -I deb12 --dry-run --explain
    """
    from butido_py.app.build import BuildRequest  # noqa: PLC0415
    from butido_py.app.group_build import GroupRequest  # noqa: PLC0415

    if bool(images) == all_images:
        raise click.UsageError("name the images with -I IMAGE (repeatable), or give --all-images")
    app: AppContext = ctx.obj
    base = BuildRequest(
        name=name,
        version=version,
        image=images[0] if images else "",
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
    request = GroupRequest(base, images, all_images=all_images, all_or_nothing=all_or_nothing)
    services = _services(app, dry_run=dry_run)
    if dry_run:
        _plan_only(request, services, as_json=as_json, explain=explain)
        return
    ctx.exit(_run(app, request, services, as_json=as_json, explain=explain))


def _run(
    app: AppContext, request: GroupRequest, services: Services, *, as_json: bool, explain: bool
) -> int:
    """Build every image of the group; report; the exit code."""
    from butido_py.app.group_build import build_group  # noqa: PLC0415

    images = len(request.images) if not request.all_images else 2
    with cancel_on_signals() as interruption:
        listener = group_listener(app, images, as_json=as_json, interruption=interruption)
        result = build_group(request, services, listener, interruption.cancel)
    _report(result, services, as_json=as_json, explain=explain)
    return group_exit_code(result, interruption)


def _services(app: AppContext, *, dry_run: bool) -> Services:
    app.recover = not dry_run  # a dry run writes nothing, not even crash recovery
    return app.services()


def _plan_only(request: GroupRequest, services: Services, *, as_json: bool, explain: bool) -> None:
    """Each image's decisions; a refused image is named (several images: text only)."""
    from butido_py.app.group_build import dry_run_group  # noqa: PLC0415

    planned = dry_run_group(request, services)
    if as_json and len(planned) > 1:
        raise click.UsageError("--dry-run --json shows one image; name one with -I")
    for index, (image, dry) in enumerate(planned):
        if index:
            click.echo()
        if isinstance(dry, ButidoError):
            click.echo(f"Dry run: {image}: refused: {dry.message}")
            continue
        echo_dry_run(dry, as_json=as_json, explain=explain)


def _report(result: GroupResult, services: Services, *, as_json: bool, explain: bool) -> None:
    """The report or JSON summary; with `explain`, why each job ran."""
    if not explain:
        echo_group_result(result, as_json=as_json)
        return
    from butido_py.app.explain import explain_jobs  # noqa: PLC0415

    def why(build: BuildResult) -> list[JobExplanation]:
        return explain_jobs(services.database(), [job.uuid for job in build.jobs])

    echo_group_result(
        result,
        as_json=as_json,
        extra=lambda build: {"explain": explain_json(why(build))},
        after_report=lambda build: echo_explanations(why(build)),
    )


COMMANDS: tuple[click.Command, ...] = (build,)
