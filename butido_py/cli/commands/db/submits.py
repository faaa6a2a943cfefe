"""`butido db submits` and `butido db submit UUID`: the submits, one with its jobs as a tree."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

import click

from butido_py.app.entity_json import job_json, submit_json
from butido_py.app.verdicts import count_verdicts
from butido_py.cli.commands.db._shared import (
    SHORT_ID,
    TIME_FORMAT,
    duration,
    fetch_limited,
    limit_of,
    not_found,
    short_image,
    time_text,
    yes_no,
)
from butido_py.cli.commands.db.groups import echo_submit_group, submit_group_json
from butido_py.cli.context import AppContext
from butido_py.cli.image_filter import image_filter
from butido_py.cli.options import (
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
from butido_py.cli.verdict_report import counts_text, echo_verdicts, verdicts_json
from butido_py.plan.tree import draw_tree
from butido_py.states import SubmitKind, SubmitState

if TYPE_CHECKING:
    from butido_py.db.database import Database
    from butido_py.db.records import (
        JobDependencyRecord,
        JobRecord,
        RebuildResultRecord,
        SubmitRecord,
    )


@click.command("submits")
@click.option("--with-pkg", "with_pkg", metavar="PKG", help="Submits that built package PKG.")
@click.option("--for-pkg", "for_pkg", metavar="PKG", help="Submits whose root package is PKG.")
@click.option("--commit", metavar="HASH", help="Submits of this commit (a prefix is enough).")
@click.option("-I", "--image", metavar="IMAGE", callback=image_filter, help="Submits for IMAGE.")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=EnumChoice(SubmitState),
    help="Only submits in this state (repeatable).",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=EnumChoice(SubmitKind),
    help="Only builds, reruns or rebuilds (repeatable).",
)
@older_than_option
@newer_than_option
@limit_option
@output_options
@click.pass_obj
def db_submits(
    app: AppContext,
    with_pkg: str | None,
    for_pkg: str | None,
    commit: str | None,
    image: str | None,
    states: tuple[SubmitState, ...],
    kinds: tuple[SubmitKind, ...],
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
    from butido_py.db.submits import (  # noqa: PLC0415 - SQLAlchemy
        SubmitFilter,
        count_submits,
        list_submits,
    )

    if with_pkg and for_pkg:
        raise click.UsageError("--with-pkg and --for-pkg are mutually exclusive")
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    query = SubmitFilter(
        with_package=with_pkg,
        for_package=for_pkg,
        commit=commit,
        image=image,
        states=states,
        kinds=kinds,
        older_than=older_than,
        newer_than=newer_than,
    )
    found = fetch_limited(
        lambda n: list_submits(app.database(), replace(query, limit=n)),
        lambda: count_submits(app.database(), query),
        limit_of(app, limit),
        "submit",
    )
    if fmt is OutputFormat.JSON:
        print_json([submit_json(s) for s in found])
        return
    rows = [
        (
            time_text(s.submit_time, fmt),
            str(s.uuid),
            s.package_name,
            s.package_version,
            s.state.value,
            s.kind.value,
            s.commit_hash,
        )
        for s in found
    ]
    headers = ("Time", "UUID", "For Package", "For Package Version", "State", "Kind", "Commit")
    render_rows(headers, rows, fmt, header=not no_header)


@click.command("submit")
@click.argument("submit_uuid", metavar="UUID", type=SUBMIT_REF)
@click.option(
    "--watch", is_flag=True, help="Show the job tree live until the submit ends (exit 1 unless "
    "it succeeded): redrawn on a terminal, one line per change when piped."
)  # fmt: skip
@wide_option
@output_options
@click.pass_obj
def db_submit(
    app: AppContext,
    submit_uuid: uuid.UUID,
    watch: bool,
    wide: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """Show a submit (commit, image, env, state, times, lineage) and its jobs as a tree.

    Lineage: the submit it reruns or rebuilds, and its own reruns and rebuilds (with their
    verdict counts); a rebuild also shows its reproducibility verdicts. --watch: states,
    durations and the current phase of the jobs, live, until the submit ends."""
    if watch:
        from butido_py.cli.commands.db.watch import watch_submit  # noqa: PLC0415

        watch_submit(app.database(), submit_uuid)
        return
    from butido_py.db.jobs import jobs_of_submit  # noqa: PLC0415 - SQLAlchemy
    from butido_py.db.submits import find_submit, submit_env  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    db = app.database()
    submit = find_submit(db, submit_uuid)
    if submit is None:
        raise not_found("submit", submit_uuid)
    env = submit_env(db, submit.id)
    jobs, edges = jobs_of_submit(db, submit.id)
    if fmt is OutputFormat.CSV:
        rows = [_submit_job_row(job, job.package_name, fmt) for job in jobs]
        render_rows(_SUBMIT_JOB_HEADERS, rows, fmt, header=not no_header)
        return
    lineage = _lineage(db, submit)
    if fmt is OutputFormat.JSON:
        group = submit_group_json(db, submit.uuid)
        print_json({**_submit_json(submit, env, jobs, edges), **_lineage_json(lineage), **group})
        return
    _echo_submit_header(submit, env, jobs)
    echo_submit_group(db, submit.uuid)
    _echo_children(lineage)
    click.echo()
    tree = [
        _submit_job_row(job, label, fmt, wide=wide)
        for job, label in job_tree(jobs, edges)
        if not label.endswith(" (above)")  # shown once, where it is first needed
    ]
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
    from butido_py.db.artifacts import rebuild_results  # noqa: PLC0415 - SQLAlchemy
    from butido_py.db.submits import child_submits  # noqa: PLC0415 - SQLAlchemy

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
    "Package", "Version", "State", "Ok?", "Endpoint", "Wait", "Run", "Image", "Container", "Job",
)  # fmt: skip


def _submit_job_row(
    job: JobRecord, label: str, fmt: OutputFormat, *, wide: bool = True
) -> tuple[object, ...]:
    """Wait: queued until started; Run: started until finished. Not `wide`: short ids."""
    return (
        label,
        job.package_version,
        job.state.value,
        yes_no(job.state.ok, fmt),
        job.endpoint,
        duration(job.queued_at, job.started_at),
        duration(job.started_at, job.finished_at),
        short_image(job.image),
        job.container_hash[:12] if job.container_hash else None,
        str(job.uuid) if wide else str(job.uuid)[:SHORT_ID],
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
        ("Finished", time_text(submit.finished_at, OutputFormat.TABLE) or "-"),
        ("Duration", duration(submit.submit_time, submit.finished_at) or "-"),
        ("Triggered by", submit.triggered_by or "-"),
        ("Env", " ".join(f"{k}={v}" for k, v in env) or "-"),
        ("Jobs", f"{len(jobs)}" + (f" ({summary})" if summary else "")),
    ]
    for name, value in fields:
        click.echo(f"{name + ':':<14}{value}")


def job_tree(
    jobs: Sequence[JobRecord], edges: Sequence[JobDependencyRecord]
) -> list[tuple[JobRecord, str]]:
    """The jobs as tree rows: each under the jobs that need it, by package name. A job needed by
    several others is expanded under the first only and is one row marked `(above)` under the
    others: the rows stay as many as jobs plus edges, however deep or interwoven the plan is."""
    by_uuid = {job.uuid: job for job in jobs}
    needs: dict[uuid.UUID, list[uuid.UUID]] = {job.uuid: [] for job in jobs}
    for edge in edges:
        if edge.depends_on_uuid not in needs[edge.job_uuid]:
            needs[edge.job_uuid].append(edge.depends_on_uuid)
    needed = {edge.depends_on_uuid for edge in edges}
    for below in needs.values():
        below.sort(key=lambda u: (by_uuid[u].package_name, str(u)))
    rows = draw_tree(
        [job.uuid for job in jobs if job.uuid not in needed], needs.__getitem__, lambda u: u
    )
    return [
        (by_uuid[row.node], row.prefix + by_uuid[row.node].package_name
         + (" (above)" if row.repeated else ""))
        for row in rows
    ]  # fmt: skip


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
        **submit_json(submit),
        "env": dict(env),
        "jobs": [{**job_json(job), "depends_on": needs[job.uuid]} for job in jobs],
    }


COMMANDS: tuple[click.Command, ...] = (db_submits, db_submit)
