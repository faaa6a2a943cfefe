"""`butido rerun SUBMIT_UUID`: run again what failed in a submit, reusing what succeeded."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import click

from butido_py.cli.build_report import (
    cancel_on_signals,
    check_options,
    echo_group_result,
    echo_result,
    exit_code,
    group_exit_code,
    group_listener,
    listener_for,
    run_options,
)
from butido_py.cli.context import AppContext
from butido_py.cli.options import JOB_REF, SUBMIT_OR_GROUP_REF, timeout_option

if TYPE_CHECKING:
    from butido_py.app.rerun import GroupRerunRequest
    from butido_py.app.services import Services


@click.command("rerun")
@click.argument("submit_uuid", metavar="SUBMIT_OR_GROUP", type=SUBMIT_OR_GROUP_REF)
@click.option(
    "-I",
    "--image",
    metavar="IMAGE",
    help="A group: rerun only this image's submit (default: every image's that failed).",
)
@click.option(
    "--failed",
    is_flag=True,
    help="Run the jobs that did not succeed (failed, dep_failed, canceled, lost); "
    "the default without --job.",
)
@click.option(
    "--job",
    "jobs",
    multiple=True,
    type=JOB_REF,
    metavar="JOB_UUID",
    help="Run this job of the submit and every job that needs it; repeatable.",
)
@check_options
@run_options
@timeout_option
@click.pass_context
def rerun(
    ctx: click.Context,
    submit_uuid: uuid.UUID,
    image: str | None,
    failed: bool,
    jobs: tuple[uuid.UUID, ...],
    staging_dir: Path | None,
    write_log: bool,
    endpoints: tuple[str, ...],
    keep_containers: bool,
    as_json: bool,
    no_verify: bool,
    no_lint: bool,
    timeout: float | None,
) -> None:
    """Run the failed jobs of submit SUBMIT_UUID again and reuse the artifacts of the others.

    The new submit (kind `rerun`, its parent the original) reads the package tree from the
    original's commit (from git objects, even after new commits) and uses its package, image and
    `-E` variables. It runs the jobs that did not succeed (`--failed`, the default) and/or the
    jobs given with `--job` and all their dependents; every other job reuses the original's
    artifacts (it runs when they are gone). Jobs are matched by package name and version.

    A group (`butido build -I A -I B`): a new group with a rerun of each image's submit that did
    not succeed (or of --image's), run at the same time.

    Exit status: 0 when every job succeeded or was reused, 1 when a job failed, 2 when there is
    nothing to rerun, 130 on Ctrl-C, 143 on SIGTERM, 129 on SIGHUP.
    """
    from butido_py.app.repeat import RepeatOptions  # noqa: PLC0415
    from butido_py.app.rerun import (  # noqa: PLC0415
        GroupRerunRequest,
        RerunRequest,
        is_group,
        rerun,
    )

    app: AppContext = ctx.obj
    options = RepeatOptions(
        endpoints,
        staging_dir,
        write_log,
        keep_containers,
        verify=not no_verify,
        lint=not no_lint,
        timeout=timeout,
    )
    services = app.services()
    if is_group(services, submit_uuid):
        if jobs:
            raise click.UsageError("--job names jobs of one submit: give the submit, not a group")
        group = GroupRerunRequest(submit_uuid, options, image)
        ctx.exit(_rerun_group(app, group, services, as_json=as_json))
    if image is not None:
        raise click.UsageError(f"--image selects a submit of a group; {submit_uuid} is a submit")
    request = RerunRequest(submit_uuid, options, failed=failed, chosen=jobs)
    with cancel_on_signals() as interruption:
        listener = listener_for(app, as_json=as_json, interruption=interruption)
        result = rerun(request, services, listener, interruption.cancel)
    echo_result(result.build, as_json=as_json, extra={"original": str(result.original)})
    ctx.exit(exit_code(result.build, interruption))


def _rerun_group(
    app: AppContext, request: GroupRerunRequest, services: Services, *, as_json: bool
) -> int:
    from butido_py.app.rerun import rerun_group  # noqa: PLC0415

    with cancel_on_signals() as interruption:
        listener = group_listener(app, 2, as_json=as_json, interruption=interruption)
        result = rerun_group(request, services, listener, interruption.cancel)
    extra: dict[str, object] = {"original": str(request.group)}
    echo_group_result(result, as_json=as_json, extra=lambda _: {}, group_extra=extra)
    return group_exit_code(result, interruption)


COMMANDS: tuple[click.Command, ...] = (rerun,)
