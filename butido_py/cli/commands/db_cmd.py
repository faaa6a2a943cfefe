"""`butido db …`: the database of submits, jobs and artifacts.

The database modules are imported inside the commands: SQLAlchemy and Alembic take half a second
to import, and most `butido` commands never touch the database.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import click

from butido_py.app.verdicts import count_verdicts
from butido_py.cli.context import AppContext
from butido_py.cli.render import (
    OutputFormat,
    choose_format,
    output_options,
    print_json,
    render_rows,
)
from butido_py.cli.verdict_report import counts_text, echo_verdicts, verdicts_json
from butido_py.db.records import (
    ArtifactRecord,
    JobDependencyRecord,
    JobDetailRecord,
    JobRecord,
    RebuildResultRecord,
    ReleaseRecord,
    SubmitRecord,
)
from butido_py.errors import DatabaseError
from butido_py.states import JobState, SubmitKind, SubmitState
from butido_py.timespec import TimeSpecError, parse_timespec

if TYPE_CHECKING:
    from butido_py.db.attempts import JobAttemptRecord
    from butido_py.db.database import Database

_TOOLS = ("psql", "pgcli", "sqlite3")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class TimeSpec(click.ParamType[datetime]):
    """butido's time filter forms: `2h`, `3days`, `1w`, `2020-01-01`, `2020-01-01 00:12:45`."""

    name = "TIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_timespec(str(value), now=datetime.now(UTC))
        except TimeSpecError as exc:
            self.fail(str(exc), param, ctx)


TIME = TimeSpec()

_older = click.option(
    "--older-than", type=TIME, help="Only entries older than TIME (e.g. 2h, 3days, 2020-01-01)."
)
_newer = click.option(
    "--newer-than", type=TIME, help="Only entries newer than TIME (e.g. 1w, 2020-01-01 12:00:00)."
)
_limit = click.option(
    "-L",
    "--limit",
    type=click.IntRange(min=0),
    help="Show the newest N entries (default: database_default_query_limit; 0: all).",
)


@click.group("db")
def db_group() -> None:
    """Query and maintain the database (SQLite by default, PostgreSQL for teams and CI)."""


def _limit_of(app: AppContext, limit: int | None) -> int:
    return app.config.database.default_query_limit if limit is None else limit


def _time(value: datetime | None, fmt: OutputFormat) -> str | None:
    if value is None:
        return None
    return value.isoformat() if fmt is OutputFormat.JSON else value.strftime(TIME_FORMAT)


def _yes_no(ok: bool | None, fmt: OutputFormat) -> object:
    if fmt is OutputFormat.JSON:
        return ok
    return "?" if ok is None else ("yes" if ok else "no")


def _short_image(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _duration(started: datetime | None, finished: datetime | None) -> str | None:
    if started is None or finished is None:
        return None
    seconds = round((finished - started).total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{seconds:02d}s"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def _not_found(what: str, key: uuid.UUID) -> DatabaseError:
    return DatabaseError(
        f"no {what} {key} in the database",
        hint=f"list {what}s with `butido db {what}s`",
    )


# --- db cli, db setup ---------------------------------------------------------------------------


@db_group.command("cli")
@click.option("--tool", type=click.Choice(_TOOLS), help="Client to start (default: first found).")
@click.pass_obj
def db_cli(app: AppContext, tool: str | None) -> None:
    """Open an interactive SQL client on the configured database.

    PostgreSQL: psql or pgcli (the password is passed through PGPASSWORD, not the command line).
    SQLite: sqlite3 on the database file.
    """
    url = urlsplit(app.database_url())
    is_sqlite = url.scheme.startswith("sqlite")
    if tool is not None and (tool == "sqlite3") != is_sqlite:
        raise DatabaseError(
            f"{tool} cannot open the configured {'SQLite' if is_sqlite else 'PostgreSQL'} database",
            hint="use --tool sqlite3 for SQLite, psql or pgcli for PostgreSQL",
        )
    candidates = [tool] if tool else (["sqlite3"] if is_sqlite else ["psql", "pgcli"])
    found = next((c for c in candidates if shutil.which(c)), None)
    if found is None:
        raise DatabaseError(
            f"no database client found (looked for {', '.join(candidates)})",
            hint="install one, e.g. on Debian `apt-get install sqlite3` or "
            "`apt-get install postgresql-client`",
        )
    env = dict(os.environ)
    if is_sqlite:
        argv = [found, url.path.removeprefix("/")]
    else:
        if url.password:
            env["PGPASSWORD"] = unquote(url.password)
        options = parse_qs(url.query).get("options")
        if options:  # e.g. -csearch_path=…: the client must see what butido_py sees
            env["PGOPTIONS"] = options[-1]
        argv = [
            found,
            "--host", url.hostname or "localhost",
            "--port", str(url.port or 5432),
            "--username", unquote(url.username or ""),
            "--dbname", unquote(url.path.removeprefix("/")),
        ]  # fmt: skip
    os.execvpe(found, argv, env)  # noqa: S606 - replacing ourselves with the client is the point


@db_group.command("setup")
@click.option(
    "--adopt-butido",
    is_flag=True,
    help="Convert a database of butido (Rust) in place: its submits, jobs, logs, artifacts and "
    "releases are kept with their UUIDs. One transaction; back the database up first, butido "
    "(Rust) cannot use it afterwards.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@click.pass_obj
def db_setup(app: AppContext, adopt_butido: bool, as_json: bool) -> None:
    """Create the schema, or apply pending migrations; running it again changes nothing.

    On PostgreSQL an advisory lock makes concurrent runs wait for each other. A database that
    butido (Rust) created is refused unless --adopt-butido is given (docs/database.md).
    """
    from butido_py.config.database import redact_url  # noqa: PLC0415
    from butido_py.db.engine import open_engine, server_info  # noqa: PLC0415
    from butido_py.db.migrate import setup_schema  # noqa: PLC0415

    url = app.database_url()
    engine = open_engine(url)
    try:
        info = server_info(engine)
        result = setup_schema(
            engine,
            adopt_butido=adopt_butido,
            progress=lambda step: click.echo(f"adopting: {step} …", err=True),
        )
    finally:
        engine.dispose()
    adopted = result.adopted
    if as_json:
        print_json(
            {
                "database": redact_url(url),
                "server": f"{info.dialect} {info.version}",
                "applied": [{"revision": m.revision, "message": m.message} for m in result.applied],
                "revision": result.revision,
                "adopted": None
                if adopted is None
                else {
                    "butido_migrations": adopted.migrations,
                    "rows": adopted.rows,
                    "jobs_by_state": adopted.jobs_by_state,
                    "submits_by_state": adopted.submits_by_state,
                },
            }
        )
        return
    click.echo(f"database: {redact_url(url)} ({info.dialect} {info.version})")
    if adopted is not None:
        counts = ", ".join(f"{count} {table}" for table, count in adopted.rows.items())
        click.echo(
            f"adopted the butido (Rust) database ({adopted.migrations} butido migrations): {counts}"
        )
        for what, states in (
            ("jobs", adopted.jobs_by_state),
            ("submits", adopted.submits_by_state),
        ):
            if states:
                listed = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
                click.echo(f"  {what}: {listed}")
    for migration in result.applied:
        click.echo(f"applied migration {migration.revision}: {migration.message}")
    if result.applied:
        click.echo(f"schema is now at revision {result.revision}")
    else:
        click.echo(f"schema is up to date (revision {result.revision}); nothing to do")


# --- listings of lookup tables ------------------------------------------------------------------


@db_group.command("envvars")
@output_options
@click.pass_obj
def db_envvars(app: AppContext, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """List all environment variables (NAME=value pairs) ever recorded."""
    from butido_py.db.lookups import list_envvars  # noqa: PLC0415

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    rows = [(e.name, e.value) for e in list_envvars(app.database())]
    render_rows(("Name", "Value"), rows, fmt, header=not no_header)


@db_group.command("images")
@output_options
@click.pass_obj
def db_images(app: AppContext, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """List all images ever requested or built on."""
    from butido_py.db.lookups import list_images  # noqa: PLC0415

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    rows = [(i.name,) for i in list_images(app.database())]
    render_rows(("Name",), rows, fmt, header=not no_header)


# --- db artifacts -------------------------------------------------------------------------------


@db_group.command("artifacts")
@click.option("-J", "--job", "job_uuid", type=click.UUID, help="Only artifacts of job UUID.")
@_limit
@output_options
@click.pass_obj
def db_artifacts(
    app: AppContext,
    job_uuid: uuid.UUID | None,
    limit: int | None,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List artifacts: path, release date (or `no`), job, size and sha256; newest last."""
    from butido_py.db.artifacts import list_artifacts  # noqa: PLC0415

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    found = list_artifacts(app.database(), job_uuid=job_uuid, limit=_limit_of(app, limit))
    render_rows(
        ("Path", "Released", "Job", "Size", "SHA256"),
        [_artifact_row(a, fmt) for a in found],
        fmt,
        header=not no_header,
    )


def _artifact_row(artifact: ArtifactRecord, fmt: OutputFormat) -> tuple[object, ...]:
    released: object = _time(artifact.released_at, fmt)
    if released is None and fmt is not OutputFormat.JSON:
        released = "no"
    return (artifact.path, released, str(artifact.job_uuid), artifact.size, artifact.sha256)


# --- db submits, db submit ----------------------------------------------------------------------


@db_group.command("submits")
@click.option("--with-pkg", "with_pkg", metavar="PKG", help="Submits that built package PKG.")
@click.option("--for-pkg", "for_pkg", metavar="PKG", help="Submits whose root package is PKG.")
@click.option("--commit", metavar="HASH", help="Submits of this commit (a prefix is enough).")
@click.option("-I", "--image", metavar="IMAGE", help="Submits for this image.")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([s.value for s in SubmitState]),
    help="Only submits in this state (repeatable).",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice([k.value for k in SubmitKind]),
    help="Only builds, reruns or rebuilds (repeatable).",
)
@_older
@_newer
@_limit
@output_options
@click.pass_obj
def db_submits(
    app: AppContext,
    with_pkg: str | None,
    for_pkg: str | None,
    commit: str | None,
    image: str | None,
    states: tuple[str, ...],
    kinds: tuple[str, ...],
    older_than: datetime | None,
    newer_than: datetime | None,
    limit: int | None,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List submits: time, UUID, the package they were for, state; newest last.

    The filters combine; e.g. `--state failed --newer-than 1d` lists today's failed submits,
    `--kind rebuild` the reproducibility checks."""
    from butido_py.db.submits import SubmitFilter, list_submits  # noqa: PLC0415

    if with_pkg and for_pkg:
        raise click.UsageError("--with-pkg and --for-pkg are mutually exclusive")
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    query = SubmitFilter(
        with_package=with_pkg,
        for_package=for_pkg,
        commit=commit,
        image=image,
        limit=_limit_of(app, limit),
        states=tuple(SubmitState(state) for state in states),
        kinds=tuple(SubmitKind(kind) for kind in kinds),
        older_than=older_than,
        newer_than=newer_than,
    )
    rows = [
        (
            _time(s.submit_time, fmt),
            str(s.uuid),
            s.package_name,
            s.package_version,
            s.state.value,
            s.kind.value,
            s.commit_hash,
        )
        for s in list_submits(app.database(), query)
    ]
    headers = ("Time", "UUID", "For Package", "For Package Version", "State", "Kind", "Commit")
    render_rows(headers, rows, fmt, header=not no_header)


@db_group.command("submit")
@click.argument("submit_uuid", metavar="UUID", type=click.UUID)
@output_options
@click.pass_obj
def db_submit(
    app: AppContext, submit_uuid: uuid.UUID, as_json: bool, as_csv: bool, no_header: bool
) -> None:
    """Show a submit (commit, image, env, state, times, lineage) and its jobs as a tree.

    Lineage: the submit it reruns or rebuilds, and its own reruns and rebuilds (with their
    verdict counts); a rebuild also shows its reproducibility verdicts."""
    from butido_py.db.jobs import jobs_of_submit  # noqa: PLC0415
    from butido_py.db.submits import find_submit, submit_env  # noqa: PLC0415

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    db = app.database()
    submit = find_submit(db, submit_uuid)
    if submit is None:
        raise _not_found("submit", submit_uuid)
    env = submit_env(db, submit.id)
    jobs, edges = jobs_of_submit(db, submit.id)
    if fmt is OutputFormat.CSV:
        rows = [_submit_job_row(job, job.package_name, fmt) for job in jobs]
        render_rows(_SUBMIT_JOB_HEADERS, rows, fmt, header=not no_header)
        return
    lineage = _lineage(db, submit)
    if fmt is OutputFormat.JSON:
        print_json({**_submit_json(submit, env, jobs, edges), **_lineage_json(lineage)})
        return
    _echo_submit_header(submit, env, jobs)
    _echo_children(lineage)
    click.echo()
    tree = [_submit_job_row(job, label, fmt) for job, label in _job_tree(jobs, edges)]
    render_rows(_SUBMIT_JOB_HEADERS, tree, OutputFormat.TABLE, header=not no_header)
    if submit.kind is SubmitKind.REBUILD:
        click.echo(f"\nVerdicts against {submit.parent_uuid}:")
        echo_verdicts(lineage.verdicts)


@dataclass(frozen=True, slots=True)
class _Lineage:
    #: The reruns and rebuilds of the submit, each with its verdicts (rebuilds only).
    children: tuple[tuple[SubmitRecord, tuple[RebuildResultRecord, ...]], ...]
    #: The submit's own verdicts, when it is a rebuild.
    verdicts: tuple[RebuildResultRecord, ...]


def _lineage(db: Database, submit: SubmitRecord) -> _Lineage:
    from butido_py.db.artifacts import rebuild_results  # noqa: PLC0415
    from butido_py.db.submits import child_submits  # noqa: PLC0415

    def verdicts_of(record: SubmitRecord) -> tuple[RebuildResultRecord, ...]:
        if record.kind is not SubmitKind.REBUILD:
            return ()
        return tuple(rebuild_results(db, record.uuid))

    children = tuple((child, verdicts_of(child)) for child in child_submits(db, submit.id))
    return _Lineage(children, verdicts_of(submit))


def _echo_children(lineage: _Lineage) -> None:
    for index, (child, verdicts) in enumerate(lineage.children):
        label = "Followed by:" if index == 0 else ""
        counts = (
            f": {counts_text(verdicts) or 'no verdicts'}"
            if child.kind is SubmitKind.REBUILD
            else ""
        )
        click.echo(f"{label:<14}{child.kind.value} {child.uuid} ({child.state.value}){counts}")
    if any(child.kind is SubmitKind.REBUILD for child, _ in lineage.children):
        click.echo(f"{'':<14}(`butido db submit REBUILD_UUID` shows a rebuild's verdicts)")


def _lineage_json(lineage: _Lineage) -> dict[str, object]:
    return {
        "children": [
            {
                "uuid": str(child.uuid),
                "kind": child.kind.value,
                "state": child.state.value,
                "submit_time": child.submit_time.isoformat(),
                "verdicts": count_verdicts(r.verdict for r in verdicts)
                if child.kind is SubmitKind.REBUILD
                else None,
            }
            for child, verdicts in lineage.children
        ],
        "verdicts": verdicts_json(lineage.verdicts),
    }


_SUBMIT_JOB_HEADERS = (
    "Package", "Version", "State", "Ok?", "Endpoint", "Duration", "Image", "Container", "Job",
)  # fmt: skip


def _submit_job_row(job: JobRecord, label: str, fmt: OutputFormat) -> tuple[object, ...]:
    return (
        label,
        job.package_version,
        job.state.value,
        _yes_no(job.state.ok, fmt),
        job.endpoint,
        _duration(job.started_at, job.finished_at),
        _short_image(job.image),
        job.container_hash[:12] if job.container_hash else None,
        str(job.uuid),
    )


def _echo_submit_header(
    submit: SubmitRecord, env: Sequence[tuple[str, str]], jobs: Sequence[JobRecord]
) -> None:
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.state.value] = counts.get(job.state.value, 0) + 1
    summary = ", ".join(f"{state} {n}" for state, n in sorted(counts.items()))
    lineage = (
        f"{submit.kind.value} of {submit.parent_uuid}" if submit.parent_uuid else submit.kind.value
    )
    fields = [
        ("Submit", str(submit.uuid)),
        ("Date", submit.submit_time.strftime(TIME_FORMAT)),
        ("Package", f"{submit.package_name} {submit.package_version}"),
        ("Image", submit.image),
        ("Commit", submit.commit_hash + (" (dirty work tree)" if submit.dirty else "")),
        ("Kind", lineage),
        ("State", submit.state.value),
        ("Finished", _time(submit.finished_at, OutputFormat.TABLE) or "-"),
        ("Duration", _duration(submit.submit_time, submit.finished_at) or "-"),
        ("Triggered by", submit.triggered_by or "-"),
        ("Env", " ".join(f"{k}={v}" for k, v in env) or "-"),
        ("Jobs", f"{len(jobs)}" + (f" ({summary})" if summary else "")),
    ]
    for name, value in fields:
        click.echo(f"{name + ':':<14}{value}")


def _job_tree(
    jobs: Sequence[JobRecord], edges: Sequence[JobDependencyRecord]
) -> list[tuple[JobRecord, str]]:
    """Depth-first rows with tree-drawing prefixes. A job needed by several others is expanded
    under the first only and is one row marked `(above)` under the others: the rows stay as many
    as jobs plus edges, however deep or interwoven the plan is."""
    by_uuid = {job.uuid: job for job in jobs}
    needs: dict[uuid.UUID, list[uuid.UUID]] = {job.uuid: [] for job in jobs}
    needed = set()
    for edge in edges:
        if edge.depends_on_uuid not in needs[edge.job_uuid]:
            needs[edge.job_uuid].append(edge.depends_on_uuid)
        needed.add(edge.depends_on_uuid)
    rows: list[tuple[JobRecord, str]] = []
    shown: set[uuid.UUID] = set()
    # (job, prefix of its row, branch drawn before its name); a stack, not recursion: plans can
    # be deeper than Python's recursion limit.
    stack = [(job.uuid, "", "") for job in reversed(jobs) if job.uuid not in needed]
    while stack:
        job_uuid, prefix, branch = stack.pop()
        job = by_uuid[job_uuid]
        if job_uuid in shown:
            rows.append((job, f"{prefix}{branch}{job.package_name} (above)"))
            continue
        shown.add(job_uuid)
        rows.append((job, prefix + branch + job.package_name))
        children = sorted(needs[job_uuid], key=lambda u: (by_uuid[u].package_name, str(u)))
        inner = prefix + {"": "", "├─ ": "│  ", "└─ ": "   "}[branch]
        last = len(children) - 1
        stack.extend(
            (child, inner, "└─ " if index == last else "├─ ")
            for index, child in reversed(list(enumerate(children)))
        )
    return rows


def _submit_json(
    submit: SubmitRecord,
    env: Sequence[tuple[str, str]],
    jobs: Sequence[JobRecord],
    edges: Sequence[JobDependencyRecord],
) -> dict[str, object]:
    needs: dict[uuid.UUID, list[dict[str, str]]] = {job.uuid: [] for job in jobs}
    for edge in edges:
        needs[edge.job_uuid].append({"job": str(edge.depends_on_uuid), "kind": edge.kind.value})
    return {
        "uuid": str(submit.uuid),
        "submit_time": submit.submit_time.isoformat(),
        "package": submit.package_name,
        "version": submit.package_version,
        "image": submit.image,
        "commit": submit.commit_hash,
        "commit_time": _time(submit.commit_time, OutputFormat.JSON),
        "dirty": submit.dirty,
        "kind": submit.kind.value,
        "parent": str(submit.parent_uuid) if submit.parent_uuid else None,
        "state": submit.state.value,
        "finished_at": _time(submit.finished_at, OutputFormat.JSON),
        "triggered_by": submit.triggered_by,
        "env": dict(env),
        "jobs": [{**_job_json(job), "depends_on": needs[job.uuid]} for job in jobs],
    }


def _job_json(job: JobRecord) -> dict[str, object]:
    return {
        "uuid": str(job.uuid),
        "submit": str(job.submit_uuid),
        "package": job.package_name,
        "version": job.package_version,
        "image": job.image,
        "image_digest": job.image_digest,
        "endpoint": job.endpoint,
        "container": job.container_hash,
        "state": job.state.value,
        "ok": job.state.ok,
        "failure_kind": job.failure_kind.value if job.failure_kind else None,
        "exit_code": job.exit_code,
        "queued_at": _time(job.queued_at, OutputFormat.JSON),
        "started_at": _time(job.started_at, OutputFormat.JSON),
        "finished_at": _time(job.finished_at, OutputFormat.JSON),
        "job_key": job.job_key,
        "reused_from": str(job.reused_from_uuid) if job.reused_from_uuid else None,
        "attempt": job.attempt,
        "root_package": job.root_package_name,
        "root_version": job.root_package_version,
    }


# --- db jobs ------------------------------------------------------------------------------------


def _env_filter(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[str, str] | None:
    if value is None:
        return None
    name, sep, content = value.partition("=")
    if not sep or not name or not content:
        raise click.BadParameter(f"{value!r} is not KEY=VALUE")
    return name, content


@db_group.command("jobs")
@click.option("-S", "--of-submit", "submit_uuid", type=click.UUID, help="Only jobs of submit UUID.")
@click.option("-I", "--image", metavar="IMAGE", help="Only jobs built on IMAGE.")
@click.option(
    "-E", "--env", metavar="KEY=VALUE", callback=_env_filter, help="Only jobs with this variable."
)
@_limit
@_older
@_newer
@click.option("-e", "--endpoint", metavar="EP", help="Only jobs that ran on endpoint EP.")
@click.option("-p", "--package", metavar="PKG", help="Only jobs of package PKG.")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([s.value for s in JobState]),
    help="Only jobs in this state (repeatable).",
)
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
    states: tuple[str, ...],
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List jobs, one row per artifact; newest last. Time filters apply to the submit time.

    The Root columns name the package the submit was for (the root of the job's tree).
    """
    from butido_py.db.artifacts import artifacts_of_jobs  # noqa: PLC0415
    from butido_py.db.jobs import JobFilter, list_jobs  # noqa: PLC0415

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    db = app.database()
    query = JobFilter(
        submit_uuid=submit_uuid,
        image=image,
        env=env,
        older_than=older_than,
        newer_than=newer_than,
        endpoint=endpoint,
        package=package,
        states=tuple(JobState(s) for s in states),
        limit=_limit_of(app, limit),
    )
    jobs = list_jobs(db, query)
    artifacts = artifacts_of_jobs(db, [job.id for job in jobs])
    rows = [
        _job_row(job, _artifact_type(artifact), fmt)
        for job in jobs
        for artifact in (artifacts[job.id] or _NO_ARTIFACT)
    ]
    render_rows(_JOB_HEADERS, rows, fmt, header=not no_header)


_NO_ARTIFACT: list[ArtifactRecord | None] = [None]

_JOB_HEADERS = (
    "Submit", "Job", "Time", "Host", "Ok?", "Package", "Version", "Distro", "Type",
    "State", "Root Package", "Root Version",
)  # fmt: skip


def _artifact_type(artifact: ArtifactRecord | None) -> str | None:
    if artifact is None:
        return None
    name = artifact.path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].upper() if "." in name else None


def _job_row(job: JobRecord, artifact_type: str | None, fmt: OutputFormat) -> tuple[object, ...]:
    return (
        str(job.submit_uuid),
        str(job.uuid),
        _time(job.submit_time, fmt),
        job.endpoint,
        _yes_no(job.state.ok, fmt),
        job.package_name,
        job.package_version,
        _short_image(job.image),
        artifact_type,
        job.state.value,
        job.root_package_name,
        job.root_package_version,
    )


# --- db job, db log-of --------------------------------------------------------------------------


@db_group.command("job")
@click.argument("job_uuid", metavar="UUID", type=click.UUID)
@click.option("-L", "--log", "show_log", is_flag=True, help="Show the log.")
@click.option("-s", "--script", "show_script", is_flag=True, help="Show the script.")
@click.option("-E", "--env", "show_env", is_flag=True, help="Show the environment.")
@click.option(
    "--line-numbers/--no-line-numbers", default=True, help="Number the script lines (default on)."
)
@click.option(
    "--highlighting/--no-highlighting",
    default=None,
    help="Highlight the script (default: on a terminal).",
)
@output_options
@click.pass_obj
def db_job(
    app: AppContext,
    job_uuid: uuid.UUID,
    show_log: bool,
    show_script: bool,
    show_env: bool,
    line_numbers: bool,
    highlighting: bool | None,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """Show one job: package, endpoint, image, container, state, times; optionally more."""
    from butido_py.db.jobs import find_job_detail  # noqa: PLC0415

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    detail = find_job_detail(app.database(), job_uuid)
    if detail is None:
        raise _not_found("job", job_uuid)
    job = detail.job
    from butido_py.db.attempts import attempts_of_job  # noqa: PLC0415

    attempts = attempts_of_job(app.database(), job_uuid)
    if fmt is OutputFormat.JSON:
        data = {**_job_json(job), "env": dict(detail.env)}
        if attempts:  # none for reused jobs and for jobs recorded by butido
            data["attempts"] = [_attempt_json(a) for a in attempts]
        if show_script:
            data["script"] = detail.script_text
        if show_log:
            data["log"] = detail.log_text
        print_json(data)
        return
    if fmt is OutputFormat.CSV:
        headers = ("UUID", "Success", "Package Name", "Package Version", "Ran on", "Image Name",
                   "Container", "State")  # fmt: skip
        row = (str(job.uuid), {True: "yes", False: "no", None: "unknown"}[job.state.ok],
               job.package_name, job.package_version, job.endpoint, job.image,
               job.container_hash, job.state.value)  # fmt: skip
        render_rows(headers, [row], fmt, header=not no_header)
        return
    _echo_job(detail)
    if len(attempts) > 1:
        _echo_attempts(attempts)
    if show_env:
        click.echo("---")
        for index, (name, value) in enumerate(detail.env):
            click.echo(f"\t{index:>3}. {name}={value}")
    if show_script:
        click.echo("---")
        from butido_py.cli.script_display import use_color  # noqa: PLC0415

        colour = use_color() if highlighting is None else highlighting
        click.echo(_format_script(app, detail.script_text, line_numbers, colour))
    if show_log:
        click.echo("---")
        click.echo(_display_log(detail.log_text or ""))


def _echo_job(detail: JobDetailRecord) -> None:
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
        ("Queued", _time(job.queued_at, OutputFormat.TABLE) or "-"),
        ("Started", _time(job.started_at, OutputFormat.TABLE) or "-"),
        ("Finished", _time(job.finished_at, OutputFormat.TABLE) or "-"),
        ("Duration", _duration(job.started_at, job.finished_at) or "-"),
        ("Attempt", str(job.attempt)),
        ("Reused from", str(job.reused_from_uuid) if job.reused_from_uuid else "-"),
        ("Job key", job.job_key or "-"),
        ("Script", f"{len(detail.script_text.splitlines())} lines"),
        ("Log", f"{len((detail.log_text or '').splitlines())} lines"),
    ]
    for name, value in fields:
        click.echo(f"{name + ':':<13}{value}")


def _echo_attempts(attempts: Sequence[JobAttemptRecord]) -> None:
    """The tries of a job retried after endpoint failures (failover)."""
    click.echo("Attempts:")
    rows = [
        (a.attempt, a.endpoint, (a.container_hash or "")[:12] or None,
         _time(a.started_at, OutputFormat.TABLE), _duration(a.started_at, a.finished_at),
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
    from butido_py.cli.script_display import format_script  # noqa: PLC0415 - Pygments is slow

    theme = app.config.script_highlight_theme
    shown = format_script(text, line_numbers=line_numbers, highlighting=highlighting, theme=theme)
    return shown.rstrip("\n")


def _display_log(text: str) -> str:
    """butido's display form: one line per log record, markers coloured on a terminal."""
    from butido_py.cli.script_display import format_log, use_color  # noqa: PLC0415
    from butido_py.logproto import parse_log  # noqa: PLC0415

    return format_log(parse_log(text.encode()), color=use_color())


@db_group.command("log-of")
@click.argument("job_uuid", metavar="UUID", type=click.UUID)
@click.option("--json", "as_json", is_flag=True, help="Print the job's state and raw log as JSON.")
@click.pass_obj
def db_log_of(app: AppContext, job_uuid: uuid.UUID, as_json: bool) -> None:
    """Print the log of a job, also while it is still running."""
    from butido_py.db.jobs import find_log  # noqa: PLC0415

    found = find_log(app.database(), job_uuid)
    if found is None:
        raise _not_found("job", job_uuid)
    if as_json:
        state = found.state
        print_json({"job": str(job_uuid), "state": state.value, "ok": state.ok,
                    "finished": state.finished, "log": found.log_text})  # fmt: skip
        return
    if found.log_text:
        click.echo(_display_log(found.log_text))
    if not found.state.finished:
        click.echo(f"(job {job_uuid} is {found.state.value}; the log may grow)", err=True)


# --- db releases --------------------------------------------------------------------------------


@db_group.command("releases")
@_older
@_newer
@click.option("--to", "store", metavar="STORE", help="Only releases into release store STORE.")
@click.option("-p", "--package", metavar="PKG", help="Only releases of package PKG.")
@_limit
@output_options
@click.pass_obj
def db_releases(
    app: AppContext,
    older_than: datetime | None,
    newer_than: datetime | None,
    store: str | None,
    package: str | None,
    limit: int | None,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List releases: package, version, date, and where the file is; newest first."""
    from butido_py.db.releases import ReleaseFilter, list_releases  # noqa: PLC0415

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    query = ReleaseFilter(
        older_than=older_than,
        newer_than=newer_than,
        store=store,
        package=package,
        limit=_limit_of(app, limit),
    )
    root = app.config.releases_root
    rows = [_release_row(r, root, fmt) for r in list_releases(app.database(), query)]
    render_rows(("Package", "Version", "Date", "Path", "Store"), rows, fmt, header=not no_header)


def _release_row(release: ReleaseRecord, root: Path, fmt: OutputFormat) -> tuple[object, ...]:
    path = root / release.store / release.artifact_path
    shown = (
        str(path)
        if path.is_file()
        else f"{release.store}/{release.artifact_path} is not available locally"
    )
    return (
        release.package_name,
        release.package_version,
        _time(release.release_date, fmt),
        shown,
        release.store,
    )


COMMANDS: tuple[click.Command, ...] = (db_group,)
