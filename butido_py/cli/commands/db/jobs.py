"""`butido db jobs` and `butido db job UUID` (`db log-of` is in logs.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

import click

from butido_py.app.entity_json import job_json
from butido_py.cli.commands.db._shared import (
    SHORT_ID,
    duration,
    fetch_limited,
    limit_of,
    not_found,
    short_image,
    time_text,
    yes_no,
)
from butido_py.cli.commands.db.logs import echo_log
from butido_py.cli.context import AppContext
from butido_py.cli.image_filter import image_filter
from butido_py.cli.options import (
    JOB_REF,
    SUBMIT_REF,
    EnumChoice,
    choose_format,
    limit_option,
    newer_than_option,
    older_than_option,
    output_options,
    wide_option,
)
from butido_py.cli.render import OutputFormat, print_json, render_rows
from butido_py.states import JobState

if TYPE_CHECKING:
    from butido_py.app.explain import JobExplanation
    from butido_py.db.attempts import JobAttemptRecord
    from butido_py.db.records import ArtifactRecord, JobDetailRecord, JobRecord


def _env_filter(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[str, str] | None:
    if value is None:
        return None
    name, sep, content = value.partition("=")
    if not sep or not name or not content:
        raise click.BadParameter(f"{value!r} is not KEY=VALUE")
    return name, content


@click.command("jobs")
@click.option("-S", "--of-submit", "submit_uuid", type=SUBMIT_REF, help="Only jobs of submit UUID.")
@click.option("-I", "--image", metavar="IMAGE", callback=image_filter, help="Only jobs on IMAGE.")
@click.option(
    "-E", "--env", metavar="KEY=VALUE", callback=_env_filter, help="Only jobs with this variable."
)
@limit_option
@older_than_option
@newer_than_option
@click.option("-e", "--endpoint", metavar="EP", help="Only jobs that ran on endpoint EP.")
@click.option("-p", "--package", metavar="PKG", help="Only jobs of package PKG.")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=EnumChoice(JobState),
    help="Only jobs in this state (repeatable).",
)
@wide_option
@output_options
@click.pass_obj
def db_jobs(
    app: AppContext,
    submit_uuid: uuid.UUID | None,
    image: str | None,
    env: tuple[str, str] | None,
    limit: int | None,
    older_than: datetime | None,
    newer_than: datetime | None,
    endpoint: str | None,
    package: str | None,
    states: tuple[JobState, ...],
    wide: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List jobs, one row per artifact; newest last. Time filters apply to the submit time.

    The Root columns name the package the submit was for (the root of the job's tree).
    """
    from butido_py.db.artifacts import artifacts_of_jobs  # noqa: PLC0415 - SQLAlchemy
    from butido_py.db.jobs import JobFilter, count_jobs, list_jobs  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    db = app.database()
    if submit_uuid is not None and limit is None:
        limit = 0  # one submit: all its jobs
    query = JobFilter(
        submit_uuid=submit_uuid,
        image=image,
        env=env,
        older_than=older_than,
        newer_than=newer_than,
        endpoint=endpoint,
        package=package,
        states=states,
    )
    jobs = fetch_limited(
        lambda n: list_jobs(db, replace(query, limit=n)),
        lambda: count_jobs(db, query),
        limit_of(app, limit),
        "job",
    )
    artifacts = artifacts_of_jobs(db, [job.id for job in jobs])
    if fmt is OutputFormat.JSON:  # one object per job, its artifacts' types in a list
        print_json(
            [
                {**job_json(job), "artifact_types": [_artifact_type(a) for a in artifacts[job.id]]}
                for job in jobs
            ]
        )
        return
    rows = [
        _job_row(job, _artifact_type(artifact), fmt, wide=wide)
        for job in jobs
        for artifact in (artifacts[job.id] or _NO_ARTIFACT)
    ]
    render_rows(_JOB_HEADERS, rows, fmt, header=not no_header)


_NO_ARTIFACT: list[ArtifactRecord | None] = [None]

_JOB_HEADERS = (
    "Submit", "Job", "Time", "Host", "Ok?", "Package", "Version", "Distro", "Type",
    "State", "Root Package", "Root Version", "Wait", "Run",
)  # fmt: skip


def _artifact_type(artifact: ArtifactRecord | None) -> str | None:
    if artifact is None:
        return None
    name = artifact.path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].upper() if "." in name else None


def _job_row(
    job: JobRecord, artifact_type: str | None, fmt: OutputFormat, *, wide: bool
) -> tuple[object, ...]:
    """Wait: queued until started; Run: started until finished. UUIDs short in a table unless
    `wide`."""
    short = fmt is OutputFormat.TABLE and not wide
    return (
        str(job.submit_uuid)[:SHORT_ID] if short else str(job.submit_uuid),
        str(job.uuid)[:SHORT_ID] if short else str(job.uuid),
        time_text(job.submit_time, fmt),
        job.endpoint,
        yes_no(job.state.ok, fmt),
        job.package_name,
        job.package_version,
        short_image(job.image),
        artifact_type,
        job.state.value,
        job.root_package_name,
        job.root_package_version,
        duration(job.queued_at, job.started_at),
        duration(job.started_at, job.finished_at),
    )


# --- db job, db log-of --------------------------------------------------------------------------


@click.command("job")
@click.argument("job_uuid", metavar="UUID", type=JOB_REF)
@click.option("-L", "--log", "show_log", is_flag=True, help="Show the log.")
@click.option("--raw", is_flag=True, help="With -L: the log's bytes exactly as the job printed.")
@click.option("-s", "--script", "show_script", is_flag=True, help="Show the script.")
@click.option("-E", "--env", "show_env", is_flag=True, help="Show the environment.")
@click.option(
    "--line-numbers/--no-line-numbers", default=True, help="Number the script lines (default on)."
)
@click.option(
    "--highlighting/--no-highlighting",
    "--highlight/--no-highlight",
    default=None,
    help="Highlight the script (default: on a terminal).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Say why the job ran: what differs from the nearest earlier job of its package version.",
)
@output_options
@click.pass_obj
def db_job(
    app: AppContext,
    job_uuid: uuid.UUID,
    show_log: bool,
    raw: bool,
    show_script: bool,
    show_env: bool,
    line_numbers: bool,
    highlighting: bool | None,
    explain: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """Show one job: package, endpoint, image, container, state, times; optionally more.

    --explain compares the job's key with those of earlier successful jobs of the same package
    version and names what differs (script, image, environment, SOURCE_DATE_EPOCH, sources,
    patches, or the artifacts of a dependency), or which job it reused."""
    from butido_py.db.jobs import find_job_detail  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    detail = find_job_detail(app.database(), job_uuid)
    if detail is None:
        raise not_found("job", job_uuid)
    job = detail.job
    from butido_py.db.attempts import attempts_of_job  # noqa: PLC0415 - SQLAlchemy

    attempts = attempts_of_job(app.database(), job_uuid)
    why = _explanation(app, job_uuid) if explain else None
    if fmt is OutputFormat.JSON:
        log = _log_of(app, job_uuid) if show_log else None
        print_json(_job_data(detail, attempts, why, script=show_script, log=log))
        return
    if fmt is OutputFormat.CSV:
        headers = ("UUID", "Success", "Package Name", "Package Version", "Ran on", "Image Name",
                   "Container", "State")  # fmt: skip
        row = (str(job.uuid), {True: "yes", False: "no", None: "unknown"}[job.state.ok],
               job.package_name, job.package_version, job.endpoint, job.image,
               job.container_hash, job.state.value)  # fmt: skip
        render_rows(headers, [row], fmt, header=not no_header)
        return
    _echo_job(detail, _count_lines(_log_of(app, job_uuid)))
    if why is not None:
        click.echo(f"{'Why:':<17}{why.reason()}")
    if len(attempts) > 1:
        _echo_attempts(attempts)
    if show_env:
        click.echo("---")
        for index, (name, value) in enumerate(detail.env):
            click.echo(f"\t{index:>3}. {name}={value}")
    if show_script:
        click.echo("---")
        from butido_py.cli.script_display import use_color  # noqa: PLC0415 - Pygments

        colour = use_color() if highlighting is None else highlighting
        click.echo(_format_script(app, detail.script_text, line_numbers, colour))
    if show_log:
        click.echo("---")
        echo_log(_log_of(app, job_uuid), raw=raw)


def _job_data(
    detail: JobDetailRecord,
    attempts: list[JobAttemptRecord],
    why: JobExplanation | None,
    *,
    script: bool,
    log: Iterable[bytes] | None,
) -> dict[str, object]:
    data: dict[str, object] = {**job_json(detail.job), "env": dict(detail.env)}
    if why is not None:
        data["explain"] = why.as_json()
    # Empty for reused jobs and for jobs recorded by butido: the key is always there.
    data["attempts"] = [_attempt_json(a) for a in attempts]
    if script:
        data["script"] = detail.script_text
    if log is not None:
        data["log"] = b"".join(log).decode("utf-8", "replace")
    return data


def _explanation(app: AppContext, job_uuid: uuid.UUID) -> JobExplanation:
    from butido_py.app.explain import explain_job  # noqa: PLC0415 - SQLAlchemy

    return explain_job(app.database(), job_uuid)


def _log_of(app: AppContext, job_uuid: uuid.UUID) -> Iterator[bytes]:
    """The job's log (its latest attempt) through db/logs.py, in pieces."""
    from butido_py.db.logs import log_head, read_log  # noqa: PLC0415 - SQLAlchemy

    head = log_head(app.database(), job_uuid)
    if head is not None:
        yield from read_log(app.database(), head)


def _count_lines(pieces: Iterable[bytes]) -> int:
    count, last = 0, b"\n"
    for piece in pieces:
        count += piece.count(b"\n")
        last = piece[-1:] or last
    return count + (last != b"\n")


def _echo_job(detail: JobDetailRecord, log_lines: int) -> None:
    job = detail.job
    state = job.state.value
    if job.failure_kind is not None:
        state += f" ({job.failure_kind.value})"
    if job.exit_code is not None:
        state += f", exit code {job.exit_code}"
    fields = [
        ("Job", str(job.uuid)),
        ("Submit", str(job.submit_uuid)),
        ("Succeeded", {True: "yes", False: "no", None: "unknown"}[job.state.ok]),
        ("State", state),
        ("Package", f"{job.package_name} {job.package_version}"),
        ("Root", f"{job.root_package_name} {job.root_package_version}"),
        ("Ran on", job.endpoint or "-"),
        ("Image", job.image + (f" ({job.image_digest})" if job.image_digest else "")),
        ("Container", job.container_hash or "-"),
        ("Queued", time_text(job.queued_at, OutputFormat.TABLE) or "-"),
        ("Started", time_text(job.started_at, OutputFormat.TABLE) or "-"),
        ("Finished", time_text(job.finished_at, OutputFormat.TABLE) or "-"),
        ("Duration", duration(job.started_at, job.finished_at) or "-"),
        ("Attempt", str(job.attempt)),
        ("Reused from", str(job.reused_from_uuid) if job.reused_from_uuid else "-"),
        ("Job key", job.job_key or "-"),
        ("Script", f"{len(detail.script_text.splitlines())} lines"),
        ("Log", f"{log_lines} lines"),
    ]
    for name, value in fields:
        click.echo(f"{name + ':':<13}{value}")


def _echo_attempts(attempts: Sequence[JobAttemptRecord]) -> None:
    """The tries of a job retried after endpoint failures (failover)."""
    click.echo("Attempts:")
    rows = [
        (a.attempt, a.endpoint, (a.container_hash or "")[:12] or None,
         time_text(a.started_at, OutputFormat.TABLE), duration(a.started_at, a.finished_at),
         a.failure_kind.value if a.failure_kind else ("running" if a.finished_at is None else "ok"),
         a.error)
        for a in attempts
    ]  # fmt: skip
    headers = ["#", "Endpoint", "Container", "Started", "Duration", "Outcome", "Error"]
    render_rows(headers, rows, OutputFormat.TABLE)


def _attempt_json(attempt: JobAttemptRecord) -> dict[str, object]:
    return {
        "attempt": attempt.attempt,
        "endpoint": attempt.endpoint,
        "container": attempt.container_hash,
        "started_at": attempt.started_at.isoformat(),
        "finished_at": attempt.finished_at.isoformat() if attempt.finished_at else None,
        "failure_kind": attempt.failure_kind.value if attempt.failure_kind else None,
        "error": attempt.error,
    }


def _format_script(app: AppContext, text: str, line_numbers: bool, highlighting: bool) -> str:
    from butido_py.cli.script_display import format_script  # noqa: PLC0415 - Pygments

    theme = app.config.script_highlight_theme
    shown = format_script(text, line_numbers=line_numbers, highlighting=highlighting, theme=theme)
    return shown.rstrip("\n")


COMMANDS: tuple[click.Command, ...] = (db_jobs, db_job)
