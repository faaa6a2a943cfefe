"""`butido db envvars|images|artifacts|releases`: listings of what the database recorded."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from butido_py.app.entity_json import artifact_json, release_json
from butido_py.cli.commands.db._shared import (
    fetch_limited,
    limit_of,
    time_text,
)
from butido_py.cli.context import AppContext
from butido_py.cli.options import (
    JOB_REF,
    choose_format,
    limit_option,
    newer_than_option,
    older_than_option,
    output_options,
)
from butido_py.cli.render import OutputFormat, print_json, render_rows

if TYPE_CHECKING:
    from butido_py.db.records import ArtifactRecord, ReleaseRecord


@click.command("envvars")
@output_options
@click.pass_obj
def db_envvars(app: AppContext, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """List all environment variables (NAME=value pairs) ever recorded."""
    from butido_py.db.lookups import list_envvars  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    rows = [
        (e.name, e.value)
        for e in fetch_limited(
            lambda _n: list_envvars(app.database()), lambda: 0, (0, 0), "environment variable"
        )
    ]
    render_rows(("Name", "Value"), rows, fmt, header=not no_header)


@click.command("images")
@output_options
@click.pass_obj
def db_images(app: AppContext, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """List all images ever requested or built on."""
    from butido_py.db.lookups import list_images  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    rows = [
        (i.name,)
        for i in fetch_limited(lambda _n: list_images(app.database()), lambda: 0, (0, 0), "image")
    ]
    render_rows(("Name",), rows, fmt, header=not no_header)


# --- db artifacts -------------------------------------------------------------------------------


@click.command("artifacts")
@click.option("-J", "--job", "job_uuid", type=JOB_REF, help="Only artifacts of job UUID.")
@limit_option
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
    from butido_py.db.artifacts import count_artifacts, list_artifacts  # noqa: PLC0415

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    db = app.database()
    if job_uuid is not None and limit is None:
        limit = 0  # one job: all its artifacts
    found = fetch_limited(
        lambda n: list_artifacts(db, job_uuid=job_uuid, limit=n),
        lambda: count_artifacts(db, job_uuid=job_uuid),
        limit_of(app, limit),
        "artifact",
    )
    if fmt is OutputFormat.JSON:
        print_json([artifact_json(a) for a in found])
        return
    render_rows(
        ("Path", "Released", "Job", "Size", "SHA256"),
        [_artifact_row(a, fmt) for a in found],
        fmt,
        header=not no_header,
    )


def _artifact_row(artifact: ArtifactRecord, fmt: OutputFormat) -> tuple[object, ...]:
    released: object = time_text(artifact.released_at, fmt)
    if released is None and fmt is not OutputFormat.JSON:
        released = "no"
    return (artifact.path, released, str(artifact.job_uuid), artifact.size, artifact.sha256)


@click.command("releases")
@older_than_option
@newer_than_option
@click.option("--to", "store", metavar="STORE", help="Only releases into release store STORE.")
@click.option("-p", "--package", metavar="PKG", help="Only releases of package PKG.")
@limit_option
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
    from butido_py.db.releases import (  # noqa: PLC0415 - SQLAlchemy
        ReleaseFilter,
        count_releases,
        list_releases,
    )

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    query = ReleaseFilter(
        older_than=older_than,
        newer_than=newer_than,
        store=store,
        package=package,
    )
    root = app.config.releases_root
    db = app.database()
    found = fetch_limited(
        lambda n: list_releases(db, replace(query, limit=n)),
        lambda: count_releases(db, query),
        limit_of(app, limit),
        "release",
        newest_first=True,
    )
    if fmt is OutputFormat.JSON:
        print_json([release_json(r, _release_file(r, root)) for r in found])
        return
    rows = [_release_row(r, root, fmt) for r in found]
    headers = ("Package", "Version", "Date", "Path", "Store", "Submit", "Job", "SHA256")
    render_rows(headers, rows, fmt, header=not no_header)


def _release_file(release: ReleaseRecord, root: Path) -> str:
    path = root / release.store / release.artifact_path
    if path.is_file():
        return str(path)
    return f"{release.store}/{release.artifact_path} is not available locally"


def _release_row(release: ReleaseRecord, root: Path, fmt: OutputFormat) -> tuple[object, ...]:
    shown = _release_file(release, root)
    # butido's four columns first; where the file came from after them (short on a terminal).
    short = fmt is OutputFormat.TABLE
    return (
        release.package_name,
        release.package_version,
        time_text(release.release_date, fmt),
        shown,
        release.store,
        str(release.submit_uuid)[: 8 if short else None],
        str(release.job_uuid)[: 8 if short else None],
        release.sha256[: 12 if short else None] if release.sha256 else release.sha256,
    )


COMMANDS: tuple[click.Command, ...] = (db_envvars, db_images, db_artifacts, db_releases)
