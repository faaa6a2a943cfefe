"""`butido rebuild SUBMIT_UUID`: prove that a past submit is reproducible, bit for bit."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import click

from butido_py.cli.build_report import (
    build_image,
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
from butido_py.cli.options import SUBMIT_OR_GROUP_REF, timeout_option
from butido_py.errors import ExitCode

if TYPE_CHECKING:
    from butido_py.app.rebuild import RebuildRequest, RebuildResult
    from butido_py.app.services import Services
    from butido_py.orchestrator.model import BuildResult


@click.command("rebuild")
@click.argument("submit_uuid", metavar="SUBMIT_OR_GROUP", type=SUBMIT_OR_GROUP_REF)
@click.option(
    "--allow-image-change",
    is_flag=True,
    help="Rebuild even when an endpoint's image is not the one the submit was built with.",
)
@check_options
@run_options
@timeout_option
@click.pass_context
def rebuild(
    ctx: click.Context,
    submit_uuid: uuid.UUID,
    allow_image_change: bool,
    staging_dir: Path | None,
    write_log: bool,
    endpoints: tuple[str, ...],
    keep_containers: bool,
    as_json: bool,
    no_verify: bool,
    no_lint: bool,
    timeout: float | None,
) -> None:
    """Run every job of submit SUBMIT_UUID again and compare the artifacts with the original's.

    The new submit (kind `rebuild`, its parent the original) reads the package tree from the
    original's commit (from git objects, whatever the work tree holds) and uses its package,
    image, `-E` variables and SOURCE_DATE_EPOCH, with reuse off. Each endpoint's image must be
    the one the original was built with (`--allow-image-change` rebuilds anyway). Every artifact
    is then compared by package, version, path and sha256: `identical`, `differs`, `missing`
    (only the original has it) or `extra` (only the rebuild has it); the verdicts are recorded
    (`butido db submit` shows them). With `diffoscope` on PATH, its text report of each
    difference is stored and shown.

    A group (`butido build -I A -I B`): every image's submit is rebuilt at the same time (a new
    group) and the verdicts are reported per image.

    Exit status: 0 when the rebuild succeeded and every artifact is identical, 1 otherwise,
    130 on Ctrl-C, 143 on SIGTERM, 129 on SIGHUP.
    """
    from butido_py.app.rebuild import RebuildRequest, rebuild  # noqa: PLC0415
    from butido_py.app.repeat import RepeatOptions  # noqa: PLC0415
    from butido_py.app.rerun import is_group  # noqa: PLC0415

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
    request = RebuildRequest(submit_uuid, options, allow_image_change=allow_image_change)
    services = app.services()
    if is_group(services, submit_uuid):
        ctx.exit(_rebuild_group(app, request, services, as_json=as_json))
    with cancel_on_signals() as interruption:
        listener = listener_for(app, as_json=as_json, interruption=interruption)
        result = rebuild(request, services, listener, interruption.cancel)
    echo_rebuild(result, as_json=as_json)
    code = exit_code(result.build, interruption)
    ctx.exit(code if code != ExitCode.OK or result.reproduced else int(ExitCode.FAILURE))


def echo_rebuild(result: RebuildResult, *, as_json: bool) -> None:
    """The build's report and the verdicts (none after a cancel)."""
    from butido_py.app.verdicts import count_verdicts  # noqa: PLC0415
    from butido_py.cli.verdict_report import echo_verdicts, verdicts_json  # noqa: PLC0415

    verdicts = result.verdicts
    if verdicts is None:
        echo_result(result.build, as_json=as_json)
        return
    results = verdicts.results
    extra: dict[str, object] = {
        "original": str(result.original),
        "verdicts": verdicts_json(results),
        "counts": count_verdicts(r.verdict for r in results),
        "diffoscope": verdicts.diffoscope,
    }
    echo_result(result.build, as_json=as_json, extra=extra)
    if not as_json:
        click.echo()
        echo_verdicts(results)
        if not verdicts.diffoscope and not verdicts.identical:
            click.echo("(install diffoscope to see what differs)")


def _rebuild_group(
    app: AppContext, request: RebuildRequest, services: Services, *, as_json: bool
) -> int:
    """Rebuild each image; each submit's report and verdicts, then one verdict line per image;
    the exit code is 1 when an image is not reproduced."""
    from butido_py.app.rebuild import rebuild_group  # noqa: PLC0415
    from butido_py.app.verdicts import count_verdicts  # noqa: PLC0415
    from butido_py.cli.verdict_report import counts_text, echo_verdicts, verdicts_json  # noqa: PLC0415

    with cancel_on_signals() as interruption:
        listener = group_listener(app, 2, as_json=as_json, interruption=interruption)
        result = rebuild_group(request, services, listener, interruption.cancel)

    def extra(build: BuildResult) -> dict[str, object]:
        verdicts = result.verdicts.get(build.submit_uuid)
        found = verdicts.results if verdicts else ()
        return {
            "reproduced": result.reproduced(build),
            "verdicts": verdicts_json(found),
            "counts": count_verdicts(r.verdict for r in found),
        }

    def after(build: BuildResult) -> None:
        verdicts = result.verdicts.get(build.submit_uuid)
        if verdicts is not None:
            echo_verdicts(verdicts.results)

    echo_group_result(
        result.group,
        as_json=as_json,
        extra=extra,
        after_report=after,
        group_extra={"original": str(result.original)},
    )
    if not as_json:
        for build in result.group.results:
            verdicts = result.verdicts.get(build.submit_uuid)
            counts = counts_text(verdicts.results) if verdicts else "not compared"
            word = "reproduced" if result.reproduced(build) else "NOT reproduced"
            click.echo(f"  {build_image(result.group, build)}: {word} ({counts})")
    code = group_exit_code(result.group, interruption)
    reproduced = all(result.reproduced(b) for b in result.group.results)
    return code if code != ExitCode.OK or reproduced else int(ExitCode.FAILURE)


COMMANDS: tuple[click.Command, ...] = (rebuild,)
