"""`butido rebuild SUBMIT_UUID`: prove that a past submit is reproducible, bit for bit."""

from __future__ import annotations

import uuid
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
from butido_py.cli.context import AppContext
from butido_py.cli.options import SUBMIT_REF, timeout_option
from butido_py.errors import ExitCode

if TYPE_CHECKING:
    from butido_py.app.rebuild import RebuildResult


@click.command("rebuild")
@click.argument("submit_uuid", metavar="SUBMIT_UUID", type=SUBMIT_REF)
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

    Exit status: 0 when the rebuild succeeded and every artifact is identical, 1 otherwise,
    130 on Ctrl-C, 143 on SIGTERM, 129 on SIGHUP.
    """
    from butido_py.app.rebuild import RebuildRequest, rebuild  # noqa: PLC0415
    from butido_py.app.repeat import RepeatOptions  # noqa: PLC0415

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


COMMANDS: tuple[click.Command, ...] = (rebuild,)
