"""The run and report of a build, shared by `build`, `rebuild` and `rerun`: their options, the
progress listener, Ctrl-C, SIGTERM and SIGHUP handling, the header, the report of
created/reused artifacts and failures, the JSON summary and the exit code."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import click

from butido_py.cli.context import AppContext
from butido_py.cli.network_note import HINT, network_summary, unset_network_mode
from butido_py.cli.warnings import color_allowed
from butido_py.errors import ButidoError, ExitCode
from butido_py.logproto import terminal_safe
from butido_py.states import JobState, SubmitState

if TYPE_CHECKING:
    from butido_py.app.group_build import GroupResult, ImageOutcome
    from butido_py.orchestrator.model import (
        BuildListener,
        BuildResult,
        JobEvent,
        JobSummary,
        PreparedBuild,
    )


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
            help="Also write each job's log to <log_dir>/NAME-VERSION-IMAGE-JOB.log.",
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


_SIGNAL_NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}
#: The exit code of an operation a signal stopped (128 + the signal, as shells report it).
_SIGNAL_EXIT_CODES = {
    signal.SIGINT: ExitCode.INTERRUPTED,
    signal.SIGTERM: ExitCode.TERMINATED,
    signal.SIGHUP: ExitCode.HUNG_UP,
}


class StoppedBeforeStartError(ButidoError):
    """A signal came while the build was still being checked: nothing was recorded."""

    def __init__(self, signum: int) -> None:
        name = _SIGNAL_NAMES.get(signal.Signals(signum), signal.Signals(signum).name)
        super().__init__(f"{name}: stopped before the build started: nothing was recorded")
        self.exit_code = _SIGNAL_EXIT_CODES.get(signal.Signals(signum), ExitCode.INTERRUPTED)


@dataclass(slots=True)
class Interruption:
    """The cancel event handed to the application, the signal that set it, and whether the run
    has started (not frozen: the signal handler and the listener change it)."""

    cancel: threading.Event = field(default_factory=threading.Event)
    signum: int | None = None
    started: threading.Event = field(default_factory=threading.Event)
    #: Whether the signal handler prints the notice; progress bars print it once cleared.
    announce: bool = True

    def notice(self) -> None:
        """`Ctrl-C: canceling the build, removing its containers …` on stderr."""
        if self.signum is not None:
            name = _SIGNAL_NAMES.get(signal.Signals(self.signum), signal.Signals(self.signum).name)
            click.echo(f"{name}: canceling the build, removing its containers …", err=True)


@contextmanager
def cancel_on_signals() -> Iterator[Interruption]:
    """Ctrl-C (SIGINT), SIGTERM and SIGHUP: before the run starts (checks, planning) the command
    stops at once, nothing being recorded yet; once it runs they set the cancel event: the build
    stops and its containers are removed; a second signal is not needed."""
    interruption = Interruption()
    if threading.current_thread() is not threading.main_thread():  # no handlers off it
        yield interruption
        return

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not interruption.started.is_set():
            interruption.signum = signum
            raise StoppedBeforeStartError(signum)
        if interruption.signum is None:
            interruption.signum = signum
            if interruption.announce:
                click.echo(err=True)  # after the ^C the terminal echoed
                interruption.notice()
        interruption.cancel.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in _SIGNAL_NAMES}
    try:
        yield interruption
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class ReportingListener:
    """The header when the run starts (not with --json), then the progress display."""

    def __init__(
        self, progress: BuildListener, *, header: bool, started: threading.Event | None = None
    ) -> None:
        self._progress = progress
        self._header = header
        self._started = started

    def started(self, prepared: PreparedBuild) -> None:
        """The plan is recorded: from now on a signal cancels the run instead of stopping."""
        if self._started is not None:
            self._started.set()
        if self._header:
            echo_header(prepared)
        self._progress.started(prepared)

    def event(self, event: JobEvent) -> None:
        self._progress.event(event)

    def finished(self) -> None:
        self._progress.finished()


def listener_for(
    app: AppContext, *, as_json: bool, interruption: Interruption | None = None
) -> BuildListener:
    """Bars on a terminal (not with --json), one line per event on stderr otherwise."""
    from butido_py.cli.progress import BarProgress, PlainProgress  # noqa: PLC0415

    progress: BuildListener
    if app.show_progress and not as_json:
        if interruption is not None:
            interruption.announce = False
        progress = BarProgress(
            interruption.cancel if interruption else None,
            interruption.notice if interruption else None,
        )
    else:
        progress = PlainProgress(sys.stderr)
    started = interruption.started if interruption is not None else None
    return ReportingListener(progress, header=not as_json, started=started)


def echo_result(
    result: BuildResult, *, as_json: bool, extra: dict[str, object] | None = None
) -> None:
    """The report, or the JSON summary with `extra` keys added."""
    if as_json:
        click.echo(json.dumps({**summary_json(result), **(extra or {})}, indent=2))
    else:
        echo_report(result)


def exit_code(result: BuildResult, interruption: Interruption | None = None) -> int:
    """0: succeeded; 1: failed; canceled: 130 (Ctrl-C), 143 (SIGTERM), 129 (SIGHUP)."""
    if result.state == SubmitState.CANCELED:
        signum = interruption.signum if interruption is not None else None
        if signum is not None:
            return int(_SIGNAL_EXIT_CODES.get(signal.Signals(signum), ExitCode.INTERRUPTED))
        return int(ExitCode.INTERRUPTED)
    return int(ExitCode.OK if result.state == SubmitState.SUCCEEDED else ExitCode.FAILURE)


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
    network = network_summary(prepared.endpoints)
    if network is not None:
        lines.append(f"Network:         {network}")
    click.echo("\n".join(lines))


#: The job states the report's last line counts, in its order.
_COUNTED = (
    JobState.SUCCEEDED,
    JobState.REUSED,
    JobState.FAILED,
    JobState.DEP_FAILED,
    JobState.CANCELED,
)


def echo_report(result: BuildResult) -> None:
    """The packages counted and where they are (each path with the global `-v`), the failures,
    and the summary line."""
    created = sorted(result.created, key=lambda a: a.path.lower())
    reused = sorted(result.reused, key=lambda a: a.path.lower())
    if _verbose():
        for title, artifacts in (("created", created), ("reused", reused)):
            if artifacts:
                click.echo(f"Packages {title}:")
                for artifact in artifacts:
                    click.echo(f"  {artifact.file}")
    elif created or reused or result.failed:
        click.echo(
            f"Packages: {len(created)} created, {len(reused)} reused, "
            f"{len(result.failed)} failed, in {result.staging_dir} (-v lists them)"
        )
    for job in result.failed:
        echo_failure(job)
    _network_note(result)
    counts = ", ".join(f"{n} {state}" for state in _COUNTED if (n := result.count(state)))
    jobs = f"{len(result.jobs)} job" if len(result.jobs) == 1 else f"{len(result.jobs)} jobs"
    click.echo(
        f"Submit {result.submit_uuid} {result.state}: {jobs} ({counts}) in {result.seconds:.1f} s"
    )


def _verbose() -> bool:
    """The global `-v` of this invocation (False outside one, e.g. in tests)."""
    ctx = click.get_current_context(silent=True)
    app = ctx.find_object(AppContext) if ctx is not None else None
    return app is not None and app.verbose


def echo_failure(job: JobSummary) -> None:
    phase = f" in phase {job.phase!r}" if job.phase else ""
    where = f" on {job.endpoint}" if job.endpoint else ""
    click.secho(
        f"[ERROR] {job.package} {job.version}: job {job.uuid} failed{phase}{where}"
        + (f": {terminal_safe(job.error)}" if job.error else ""),
        fg="red",
        color=color_allowed(),
    )
    if job.last_lines:
        click.echo(f"Last {len(job.last_lines)} lines of job {job.uuid}:")
        for index, line in job.last_lines:
            click.echo(f"{index:>4} | {terminal_safe(line)}")
    click.echo(
        f"  more: butido db log-of {job.uuid} | less -SR +G\n        butido db job {job.uuid}"
    )


def _network_note(result: BuildResult) -> None:
    """Once per report: a failed job may have needed the network butido gave it."""
    ctx = click.get_current_context(silent=True)
    app = ctx.find_root().obj if ctx is not None else None
    if not result.failed or not isinstance(app, AppContext):
        return
    unset = set(unset_network_mode(app.config.docker.endpoints))
    ran_there = sorted({j.endpoint for j in result.failed if j.endpoint in unset})
    if ran_there:
        click.echo(
            f"note: failed jobs ran without a network on {', '.join(ran_there)} "
            f"(network_mode not set: none); {HINT}"
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


# --- groups (one request over several images) -----------------------------------------------------


def group_listener(
    app: AppContext, images: int, *, as_json: bool, interruption: Interruption
) -> BuildListener:
    """As `listener_for`; several images run at once, so one line per event (bars would mix)."""
    if images <= 1:
        return listener_for(app, as_json=as_json, interruption=interruption)
    from butido_py.cli.progress import PlainProgress  # noqa: PLC0415

    progress = PlainProgress(sys.stderr)
    return ReportingListener(progress, header=not as_json, started=interruption.started)


def echo_group_result(
    result: GroupResult,
    *,
    as_json: bool,
    extra: Callable[[BuildResult], dict[str, object]] | None = None,
    after_report: Callable[[BuildResult], None] | None = None,
    group_extra: dict[str, object] | None = None,
) -> None:
    """Each submit's report (each followed by `after_report`), then (for several images) the
    group's line and one line per image; or the JSON summary, `extra` keys added to each
    submit's (a group of one: the submit's summary with the group added)."""
    results = result.results
    if as_json:
        click.echo(json.dumps(group_json(result, extra, group_extra), indent=2))
        return
    for index, build in enumerate(results):
        if index:
            click.echo()
        if len(result.outcomes) > 1:
            click.echo(f"On image {build_image(result, build)}:")
        echo_report(build)
        if after_report is not None:
            after_report(build)
    if len(result.outcomes) > 1:  # a group of one: its submit's summary line says it all
        echo_group_lines(result)


def build_image(result: GroupResult, build: BuildResult) -> str:
    return next(o.image for o in result.outcomes if o.result is build)


def echo_group_lines(result: GroupResult) -> None:
    images = len(result.outcomes)
    click.echo(f"Group {result.group_uuid} {result.state}: {images} image{'s' * (images != 1)}")
    width = max(len(o.image) for o in result.outcomes)
    for outcome in result.outcomes:
        click.echo(f"  {outcome.image:<{width}}  {outcome_text(outcome)}")


def outcome_text(outcome: ImageOutcome) -> str:
    build = outcome.result
    if build is None:
        return f"not run: {outcome.error.message if outcome.error else 'the submit did not start'}"
    failed = build.count(JobState.FAILED) + build.count(JobState.DEP_FAILED)
    return (
        f"submit {build.submit_uuid} {build.state}: {len(build.jobs)} jobs"
        + (f" ({failed} failed or dep_failed)" if failed else "")
        + f" in {build.seconds:.1f} s"
    )


def group_json(
    result: GroupResult,
    extra: Callable[[BuildResult], dict[str, object]] | None = None,
    group_extra: dict[str, object] | None = None,
) -> dict[str, object]:
    """The group, its images and submits; a group of one image also has its submit's summary
    at the top (the JSON of a build before groups)."""
    more = extra or (lambda _: {})
    images = [
        {
            "image": o.image,
            "submit": str(o.result.submit_uuid) if o.result else None,
            "state": o.result.state if o.result else None,
            "error": o.error.message if o.error else None,
        }
        for o in result.outcomes
    ]
    single = result.results[0] if len(result.outcomes) == 1 and result.results else None
    return {
        **({**summary_json(single), **more(single)} if single is not None else {}),
        **(group_extra or {}),
        "group": str(result.group_uuid),
        "state": result.state,
        "images": images,
        "submits": [
            {"image": build_image(result, b), **summary_json(b), **more(b)} for b in result.results
        ],
    }


def group_exit_code(result: GroupResult, interruption: Interruption | None = None) -> int:
    """The worst (highest) of the images' codes: a signal's, a refused image's error code, 1 for a
    failed image, 0 when every image succeeded (docs/exit-codes.md)."""
    codes = [
        exit_code(o.result, interruption)
        if o.result is not None
        else int(o.error.exit_code if o.error is not None else ExitCode.FAILURE)
        for o in result.outcomes
    ]
    return max(codes, default=int(ExitCode.OK))
