"""`butido db envvars|images|artifacts|releases`: listings of what the database recorded."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from butido_py.cli.commands.db._shared import limit_of, time_text
from butido_py.cli.context import AppContext
from butido_py.cli.options import (
    choose_format,
    limit_option,
    newer_than_option,
    older_than_option,
    output_options,
)
from butido_py.cli.render import OutputFormat, render_rows

if TYPE_CHECKING:
    from butido_py.db.records import ArtifactRecord, ReleaseRecord


@click.command("envvars")
@output_options
@click.pass_obj
def db_envvars(app: AppContext, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """List all environment variables (NAME=value pairs) ever recorded."""
    from butido_py.db.lookups import list_envvars  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    rows = [(e.name, e.value) for e in list_envvars(app.database())]
    render_rows(("Name", "Value"), rows, fmt, header=not no_header)


@click.command("images")
@output_options
@click.pass_obj
def db_images(app: AppContext, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """List all images ever requested or built on."""
    from butido_py.db.lookups import list_images  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    rows = [(i.name,) for i in list_images(app.database())]
    render_rows(("Name",), rows, fmt, header=not no_header)


# --- db artifacts -------------------------------------------------------------------------------


@click.command("artifacts")
@click.option("-J", "--job", "job_uuid", type=click.UUID, help="Only artifacts of job UUID.")
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
    from butido_py.db.artifacts import list_artifacts  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    found = list_artifacts(app.database(), job_uuid=job_uuid, limit=limit_of(app, limit))
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
    from butido_py.db.releases import ReleaseFilter, list_releases  # noqa: PLC0415 - SQLAlchemy

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    query = ReleaseFilter(
        older_than=older_than,
        newer_than=newer_than,
        store=store,
        package=package,
        limit=limit_of(app, limit),
    )
    root = app.config.releases_root
    rows = [_release_row(r, root, fmt) for r in list_releases(app.database(), query)]
    headers = ("Package", "Version", "Date", "Path", "Store", "Submit", "Job", "SHA256")
    render_rows(headers, rows, fmt, header=not no_header)


def _release_row(release: ReleaseRecord, root: Path, fmt: OutputFormat) -> tuple[object, ...]:
    path = root / release.store / release.artifact_path
    shown = (
        str(path)
        if path.is_file()
        else f"{release.store}/{release.artifact_path} is not available locally"
    )
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
