"""`butido db history PKG`: the recent builds of one package, how long they took, how they ended."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

import click

from butido_py.app.entity_json import job_json
from butido_py.cli.commands.db._shared import (
    SHORT_ID,
    duration,
    fetch_limited,
    limit_of,
    time_text,
)
from butido_py.cli.context import AppContext
from butido_py.cli.options import choose_format, limit_option, output_options, wide_option
from butido_py.cli.render import OutputFormat, print_json, render_rows
from butido_py.states import JobState

if TYPE_CHECKING:
    from butido_py.db.records import JobRecord

#: Eight heights of a bar, for the plot of run times.
_BLOCKS = "▁▂▃▄▅▆▇█"


@click.command("history")
@click.argument("package", metavar="PKG")
@limit_option
@wide_option
@output_options
@click.pass_obj
def db_history(
    app: AppContext,
    package: str,
    limit: int | None,
    wide: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List the recent builds of package PKG: time, version, state, endpoint, queue wait and run
    time; then the median run time and the success rate, and on a terminal a plot of run times.
    """
    from butido_py.db.jobs import JobFilter, count_jobs, list_jobs  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    db = app.database()
    query = JobFilter(package=package)
    jobs = fetch_limited(
        lambda n: list_jobs(db, JobFilter(package=package, limit=n)),
        lambda: count_jobs(db, query),
        limit_of(app, limit),
        "build",
    )
    built = [job for job in jobs if job.state is not JobState.REUSED]
    runs = [_seconds(job) for job in built]
    finished = [s for s in runs if s is not None]
    ended = [job for job in built if job.finished_at is not None]
    succeeded = sum(job.state is JobState.SUCCEEDED for job in ended)
    median = statistics.median(finished) if finished else None
    if fmt is OutputFormat.JSON:
        print_json(
            {
                "package": package,
                "builds": [job_json(job) for job in jobs],
                "median_run_seconds": median,
                "success_rate": round(succeeded / len(ended), 3) if ended else None,
            }
        )
        return
    rows = [_row(job, fmt, wide=wide) for job in jobs]
    render_rows(_HEADERS, rows, fmt, header=not no_header)
    if fmt is OutputFormat.CSV or not jobs:
        return
    if median is not None:
        click.echo(f"median run time {_clock(median)} over {len(finished)} finished builds")
    if ended:
        click.echo(f"success rate {succeeded}/{len(ended)} ({100 * succeeded / len(ended):.0f} %)")
    if fmt is OutputFormat.TABLE and len(finished) > 1:
        click.echo(f"run times, oldest first: {plot(finished)} (max {_clock(max(finished))})")


_HEADERS = ("Time", "Version", "State", "Endpoint", "Wait", "Run", "Job")


def _row(job: JobRecord, fmt: OutputFormat, *, wide: bool) -> tuple[object, ...]:
    short = fmt is OutputFormat.TABLE and not wide
    return (
        time_text(job.submit_time, fmt),
        job.package_version,
        job.state.value,
        job.endpoint,
        duration(job.queued_at, job.started_at),
        duration(job.started_at, job.finished_at),
        str(job.uuid)[:SHORT_ID] if short else str(job.uuid),
    )


def _seconds(job: JobRecord) -> float | None:
    if job.started_at is None or job.finished_at is None:
        return None
    return (job.finished_at - job.started_at).total_seconds()


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


def plot(values: list[float]) -> str:
    """One block per value, its height relative to the largest."""
    top = max(values) or 1.0
    return "".join(_BLOCKS[min(7, int(v / top * 7 + 0.5))] for v in values)


COMMANDS: tuple[click.Command, ...] = (db_history,)
