"""`butido build NAME [VERSION] -I IMAGE`: build a package and its dependency tree."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from butido_py.cli.commands.repo_cmd import env_option
from butido_py.cli.context import AppContext
from butido_py.cli.repo_options import repository_options
from butido_py.errors import ExitCode

if TYPE_CHECKING:
    # Imported lazily in the command: docker, the database and the orchestrator cost start-up
    # time that other commands should not pay.
    from butido_py.orchestrator.model import BuildResult, JobSummary, PreparedBuild
    from butido_py.orchestrator.run import BuildRun


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
@click.option("--no-verify", is_flag=True, help="Do not verify the hashes of the sources.")
@click.option("--no-lint", is_flag=True, help="Do not run the script linter.")
@click.option(
    "--staging-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Stage the outputs here; the directory name (a UUID) becomes the submit's UUID.",
)
@click.option("--shebang", metavar="BANG", help="Shebang line of the scripts (default: config).")
@click.option(
    "-L",
    "--write-log",
    is_flag=True,
    help="Also write each job's log to <log_dir>/NAME-VERSION-JOB.log.",
)
@click.option(
    "--endpoint",
    "endpoints",
    multiple=True,
    metavar="NAME",
    help="Run jobs only on this endpoint; repeatable (default: all configured).",
)
@click.option("--no-reuse", is_flag=True, help="Run every job, even when an earlier one matches.")
@click.option(
    "--keep-containers", is_flag=True, help="Do not remove the job containers (for debugging)."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of the report.")
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
    and removes its containers.

    Exit status: 0 when every job succeeded or was reused, 1 when a job failed, 130 on Ctrl-C.
    """
    from butido_py.app.build import BuildRequest, prepare_build, run_build  # noqa: PLC0415
    from butido_py.cli.progress import BarProgress, PlainProgress  # noqa: PLC0415
    from butido_py.db.endpoints import disabled_endpoint_names  # noqa: PLC0415
    from butido_py.orchestrator.model import BuildListener  # noqa: PLC0415

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
    )
    config = app.config
    repository = app.repository(commit, allow_dirty)
    database = app.database()
    prepared = prepare_build(
        request,
        config=config,
        repository=repository,
        warn=_warn,
        disabled_endpoints=lambda: disabled_endpoint_names(database),
    )
    listener: BuildListener = (
        BarProgress() if app.show_progress and not as_json else PlainProgress(sys.stderr)
    )
    if not as_json:
        _echo_header(prepared)
    result = _run_interruptible(run_build(prepared, database, listener))
    if as_json:
        click.echo(json.dumps(_json(result), indent=2))
    else:
        _echo_report(result)
    ctx.exit(_exit_code(result))


def _warn(message: str) -> None:
    click.secho(f"warning: {message}", fg="yellow", err=True)


def _run_interruptible(run: BuildRun) -> BuildResult:
    """Ctrl-C cancels the run (its containers are removed); a second one is not needed."""

    def on_sigint(_signum: int, _frame: FrameType | None) -> None:
        click.echo("\nCtrl-C: canceling the build, removing its containers …", err=True)
        run.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return run.run()
    finally:
        signal.signal(signal.SIGINT, previous)


def _exit_code(result: BuildResult) -> int:
    if result.state == "canceled":
        return int(ExitCode.INTERRUPTED)
    return int(ExitCode.OK if result.state == "succeeded" else ExitCode.FAILURE)


def _echo_header(prepared: PreparedBuild) -> None:
    endpoints = ", ".join(f"{e.name} ({e.maxjobs})" for e in prepared.endpoints)
    click.echo(
        f"Starting submit: {prepared.submit_uuid}\n"
        f"On image:        {prepared.image}\n"
        f"For package:     {prepared.root.name} {prepared.root.version}\n"
        f"On repo hash:    {prepared.commit}{' (dirty)' if prepared.dirty else ''}\n"
        f"Jobs:            {len(prepared.jobs)} on {endpoints}\n"
        f"Staging:         {prepared.staging_dir}"
    )


def _echo_report(result: BuildResult) -> None:
    created = sorted(result.created, key=lambda a: a.path.lower())
    reused = sorted(result.reused, key=lambda a: a.path.lower())
    if created:
        click.echo("Packages created:")
        for artifact in created:
            click.echo(f"  {artifact.file}")
    if reused:
        click.echo("Packages reused:")
        for artifact in reused:
            click.echo(f"  {artifact.file}")
    for job in result.failed:
        _echo_failure(job)
    counts = ", ".join(
        f"{n} {state}"
        for state in ("succeeded", "reused", "failed", "dep_failed", "canceled")
        if (n := result.count(state))
    )
    click.echo(
        f"Submit {result.submit_uuid} {result.state}: {len(result.jobs)} jobs ({counts}) "
        f"in {result.seconds:.1f} s"
    )


def _echo_failure(job: JobSummary) -> None:
    phase = f" in phase {job.phase!r}" if job.phase else ""
    where = f" on {job.endpoint}" if job.endpoint else ""
    click.secho(
        f"[ERROR] {job.package} {job.version}: job {job.uuid} failed{phase}{where}"
        + (f": {job.error}" if job.error else ""),
        fg="red",
    )
    if job.last_lines:
        click.echo(f"Last {len(job.last_lines)} lines of job {job.uuid}:")
        for index, line in job.last_lines:
            click.echo(f"{index:>4} | {line}")
    click.echo(
        f"  more: butido db log-of {job.uuid} | less -SR +G\n        butido db job {job.uuid}"
    )


def _json(result: BuildResult) -> dict[str, object]:
    return {
        "submit": str(result.submit_uuid),
        "state": result.state,
        "staging_dir": str(result.staging_dir),
        "seconds": round(result.seconds, 3),
        "jobs": [
            {
                "uuid": str(job.uuid),
                "package": job.package,
                "version": job.version,
                "state": job.state,
                "endpoint": job.endpoint,
                "container": job.container,
                "exit_code": job.exit_code,
                "phase": job.phase,
                "error": job.error,
                "reused_from": str(job.reused_from) if job.reused_from else None,
                "artifacts": [
                    {"path": a.path, "file": str(a.file), "sha256": a.sha256} for a in job.artifacts
                ],
                "last_lines": [line for _, line in job.last_lines],
            }
            for job in result.jobs
        ],
    }


COMMANDS: tuple[click.Command, ...] = (build,)
