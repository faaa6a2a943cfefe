"""`butido db groups` and `butido db group UUID`: builds over several images, side by side.

A group's state is derived from its submits' (db/groups.py); submits recorded without a group
(before schema 0006, and reruns/rebuilds of a single submit) are not listed here:
`butido db submits` lists them.
"""

from __future__ import annotations

import shutil
import uuid
from typing import TYPE_CHECKING

import click

from butido_py.app.entity_json import group_json
from butido_py.cli.commands.db._shared import (
    duration,
    fetch_limited,
    limit_of,
    not_found,
    short_image,
    time_text,
)
from butido_py.cli.context import AppContext
from butido_py.cli.options import (
    GROUP_REF,
    EnumChoice,
    choose_format,
    limit_option,
    output_options,
)
from butido_py.cli.render import OutputFormat, print_json, render_rows
from butido_py.states import SubmitKind, SubmitState

if TYPE_CHECKING:
    from butido_py.db.database import Database
    from butido_py.db.groups import GroupRecord
    from butido_py.db.records import JobRecord

#: A terminal at least this wide shows each cell's duration too.
WIDE_COLUMNS = 120


@click.command("groups")
@click.option("--for-pkg", "for_pkg", metavar="PKG", help="Groups whose package is PKG.")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=EnumChoice(SubmitState),
    help="Only groups in this (derived) state (repeatable).",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=EnumChoice(SubmitKind),
    help="Only builds, reruns or rebuilds (repeatable).",
)
@limit_option
@output_options
@click.pass_obj
def db_groups(
    app: AppContext,
    for_pkg: str | None,
    states: tuple[SubmitState, ...],
    kinds: tuple[SubmitKind, ...],
    limit: int | None,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List groups (one build over several images): time, UUID, package, images, state.

    Newest last; the state is derived from the group's submits (docs/database.md)."""
    from butido_py.db.groups import GroupFilter, list_groups  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    database = app.database()
    found = fetch_limited(
        lambda n: list_groups(database, GroupFilter(for_pkg, states, kinds, n or None)),
        lambda: len(list_groups(database, GroupFilter(for_pkg, states, kinds, None))),
        limit_of(app, limit),
        "group",
    )
    if fmt is OutputFormat.JSON:  # the group object of docs/json.md, its submits without jobs
        print_json([group_json(g, None) for g in found])
        return
    rows = [
        (
            time_text(g.created_at, fmt),
            str(g.uuid),
            g.package_name,
            g.package_version,
            " ".join(short_image(image) for image in g.images),
            g.state.value,
            g.kind.value,
            g.commit_hash,
        )
        for g in found
    ]
    headers = ("Time", "UUID", "Package", "Version", "Images", "State", "Kind", "Commit")
    render_rows(headers, rows, fmt, header=not no_header)


@click.command("group")
@click.argument("group_uuid", metavar="UUID", type=GROUP_REF)
@click.option("--wide/--narrow", default=None, help="Show durations (default: on a wide terminal).")
@output_options
@click.pass_obj
def db_group(
    app: AppContext,
    group_uuid: uuid.UUID,
    wide: bool | None,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """Show a group: one row per package, one column per image, each cell the job's state.

    First the request and each image's submit; on a wide terminal (or --wide) each cell also
    has the job's duration. --json lists the submits with their jobs."""
    from butido_py.db.groups import find_group, jobs_of_group  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    db = app.database()
    group = find_group(db, group_uuid)
    if group is None:
        raise not_found("group", group_uuid)
    jobs = jobs_of_group(db, group)
    if fmt is OutputFormat.JSON:
        print_json(group_json(group, jobs))
        return
    if wide is None:
        wide = shutil.get_terminal_size().columns >= WIDE_COLUMNS
    headers, rows = matrix(group, jobs, wide=wide)
    if fmt is OutputFormat.CSV:
        render_rows(headers, rows, fmt, header=not no_header)
        return
    _echo_group_header(group)
    click.echo()
    render_rows(headers, rows, OutputFormat.TABLE, header=not no_header)


def matrix(
    group: GroupRecord, jobs: dict[uuid.UUID, list[JobRecord]], *, wide: bool
) -> tuple[list[str], list[tuple[object, ...]]]:
    """One row per package (name, version), one column per image of the group; a cell is the
    job's state (with `wide`, and its duration), `-` where the image has no such job, and the
    image's column says `refused` when it got no submit."""
    from butido_py.db.groups import group_matrix  # noqa: PLC0415 - SQLAlchemy

    found = group_matrix(group, jobs)
    headers = ["Package", "Version", *(short_image(image) for image in group.images)]
    rows: list[tuple[object, ...]] = []
    for package in found.packages:
        cells = []
        for image in found.images:
            job = found.cell(package, image)
            missing = "refused" if image in found.refused else "-"
            cells.append(_cell(job, wide=wide) if job is not None else missing)
        rows.append((*package, *cells))
    return headers, rows


def _cell(job: JobRecord, *, wide: bool) -> str:
    took = duration(job.started_at, job.finished_at) if wide else None
    return f"{job.state.value} {took}" if took else job.state.value


def _echo_group_header(group: GroupRecord) -> None:
    fields = [
        ("Group", str(group.uuid)),
        ("Date", time_text(group.created_at, OutputFormat.TABLE) or "-"),
        ("Package", f"{group.package_name} {group.package_version}"),
        ("Commit", group.commit_hash),
        ("Kind", f"{group.kind.value} of {group.parent_uuid}" if group.parent_uuid else "build"),
        ("State", group.state.value),
        ("Triggered by", group.triggered_by or "-"),
        ("Env", " ".join(f"{k}={v}" for k, v in group.env) or "-"),
    ]
    for name, value in fields:
        click.echo(f"{name + ':':<14}{value}")
    for image in group.images:
        submit = group.submit_for(image)
        text = f"submit {submit.uuid} ({submit.state.value})" if submit else "refused: no submit"
        click.echo(f"{'':<14}{image}: {text}")


COMMANDS: tuple[click.Command, ...] = (db_groups, db_group)


# --- the group of one submit (`butido db submit`) ------------------------------------------------


def submit_group_json(db: Database, submit_uuid: uuid.UUID) -> dict[str, object]:
    """The submit's group and its sibling submits (the other images'); null/[] without one."""
    from butido_py.db.groups import group_of_submit  # noqa: PLC0415 - SQLAlchemy

    group = group_of_submit(db, submit_uuid)
    siblings = [s for s in group.submits if s.uuid != submit_uuid] if group else []
    return {
        "group": str(group.uuid) if group else None,
        "siblings": [
            {"uuid": str(s.uuid), "image": s.image, "state": s.state.value} for s in siblings
        ],
    }


def echo_submit_group(db: Database, submit_uuid: uuid.UUID) -> None:
    """`Group:` and `Siblings:` lines of the submit's header (nothing without a group)."""
    from butido_py.db.groups import group_of_submit  # noqa: PLC0415 - SQLAlchemy

    group = group_of_submit(db, submit_uuid)
    if group is None:
        return
    click.echo(f"{'Group:':<14}{group.uuid} ({group.state.value})")
    siblings = [s for s in group.submits if s.uuid != submit_uuid]
    for index, sibling in enumerate(siblings):
        label = "Siblings:" if index == 0 else ""
        click.echo(f"{label:<14}{sibling.image}: submit {sibling.uuid} ({sibling.state.value})")
