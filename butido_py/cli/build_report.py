"""The run and report of a build, shared by `build`, `rebuild` and `rerun`: the progress
listener, Ctrl-C handling, the header, the report of created/reused artifacts and failures, the
JSON summary and the exit code."""

from __future__ import annotations

import json
import signal
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from butido_py.cli.context import AppContext
from butido_py.errors import ExitCode

if TYPE_CHECKING:
    from butido_py.app.repeat import OriginalSubmit, RepeatContext
    from butido_py.db.database import Database
    from butido_py.orchestrator.model import BuildListener, BuildResult, JobSummary, PreparedBuild
    from butido_py.orchestrator.run import BuildRun


F = TypeVar("F", bound=Callable[..., Any])


def check_options(func: F) -> F:
    """--no-verify and --no-lint: the command receives `no_verify` and `no_lint`."""
    func = click.option("--no-lint", is_flag=True, help="Do not run the script linter.")(func)
    return click.option(
        "--no-verify", is_flag=True, help="Do not verify the hashes of the sources."
    )(func)


def run_options(func: F) -> F:
    """The options of every command that runs jobs; the command receives `staging_dir`,
    `write_log`, `endpoints`, `keep_containers` and `as_json`."""
    options = (
        click.option(
            "--staging-dir",
            type=click.Path(path_type=Path, file_okay=False),
            help="Stage the outputs here; the directory name (a UUID) becomes the submit's UUID.",
        ),
        click.option(
            "-L",
            "--write-log",
            is_flag=True,
            help="Also write each job's log to <log_dir>/NAME-VERSION-JOB.log.",
        ),
        click.option(
            "--endpoint",
            "endpoints",
            multiple=True,
            metavar="NAME",
            help="Run jobs only on this endpoint; repeatable (default: all configured).",
        ),
        click.option(
            "--keep-containers", is_flag=True, help="Do not remove the job containers (debugging)."
        ),
        click.option(
            "--json", "as_json", is_flag=True, help="Print a JSON summary instead of the report."
        ),
    )
    for option in reversed(options):
        func = option(func)
    return func


def listener_for(app: AppContext, *, as_json: bool) -> BuildListener:
    """Bars on a terminal (not with --json), one line per event on stderr otherwise."""
    from butido_py.cli.progress import BarProgress, PlainProgress  # noqa: PLC0415

    if app.show_progress and not as_json:
        return BarProgress()
    return PlainProgress(sys.stderr)


def execute(
    app: AppContext, prepared: PreparedBuild, database: Database, *, as_json: bool
) -> BuildResult:
    """Record and run a prepared build with progress display; Ctrl-C cancels it."""
    from butido_py.app.build import run_build  # noqa: PLC0415

    if not as_json:
        echo_header(prepared)
    return run_interruptible(run_build(prepared, database, listener_for(app, as_json=as_json)))


def echo_result(
    result: BuildResult, *, as_json: bool, extra: dict[str, object] | None = None
) -> None:
    """The report, or the JSON summary with `extra` keys added."""
    if as_json:
        click.echo(json.dumps({**summary_json(result), **(extra or {})}, indent=2))
    else:
        echo_report(result)


def repeat_setup(
    app: AppContext, submit_uuid: uuid.UUID, *, command: str
) -> tuple[Database, OriginalSubmit, RepeatContext]:
    """The database, the recorded submit and the context to prepare its rebuild or rerun."""
    from butido_py.app.repeat import RepeatContext, load_original  # noqa: PLC0415
    from butido_py.db.endpoints import disabled_endpoint_names  # noqa: PLC0415

    database = app.database()
    original = load_original(database, submit_uuid, command=command)
    context = RepeatContext(
        config=app.config,
        repository_at=lambda commit: app.repository(commit, work_tree=False),
        warn=warn,
        disabled_endpoints=lambda: disabled_endpoint_names(database),
    )
    return database, original, context


def warn(message: str) -> None:
    click.secho(f"warning: {message}", fg="yellow", err=True)


def run_interruptible(run: BuildRun) -> BuildResult:
    """Ctrl-C cancels the run (its containers are removed); a second one is not needed."""

    def on_sigint(_signum: int, _frame: FrameType | None) -> None:
        click.echo("\nCtrl-C: canceling the build, removing its containers …", err=True)
        run.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return run.run()
    finally:
        signal.signal(signal.SIGINT, previous)


def exit_code(result: BuildResult) -> int:
    if result.state == "canceled":
        return int(ExitCode.INTERRUPTED)
    return int(ExitCode.OK if result.state == "succeeded" else ExitCode.FAILURE)


def echo_header(prepared: PreparedBuild) -> None:
    endpoints = ", ".join(f"{e.name} ({e.maxjobs})" for e in prepared.endpoints)
    lines = [
        f"Starting submit: {prepared.submit_uuid}",
        f"On image:        {prepared.image}",
        f"For package:     {prepared.root.name} {prepared.root.version}",
        f"On repo hash:    {prepared.commit}{' (dirty)' if prepared.dirty else ''}",
        f"Jobs:            {len(prepared.jobs)} on {endpoints}",
        f"Staging:         {prepared.staging_dir}",
    ]
    if prepared.parent_submit is not None:
        lines.insert(1, f"{prepared.kind.capitalize() + ' of:':<17}{prepared.parent_submit}")
    if prepared.reuse_from:
        lines.append(f"Reusing:         {len(prepared.reuse_from)} jobs of the original")
    click.echo("\n".join(lines))


def echo_report(result: BuildResult) -> None:
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
        echo_failure(job)
    counts = ", ".join(
        f"{n} {state}"
        for state in ("succeeded", "reused", "failed", "dep_failed", "canceled")
        if (n := result.count(state))
    )
    click.echo(
        f"Submit {result.submit_uuid} {result.state}: {len(result.jobs)} jobs ({counts}) "
        f"in {result.seconds:.1f} s"
    )


def echo_failure(job: JobSummary) -> None:
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


def summary_json(result: BuildResult) -> dict[str, object]:
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
