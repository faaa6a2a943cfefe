"""`butido find-artifact`: the artifacts a build of a package would reuse."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from butido_py.cli.commands.repo_cmd import env_option
from butido_py.cli.context import AppContext
from butido_py.cli.options import choose_format, output_options, repository_options
from butido_py.cli.render import OutputFormat, print_json, render_rows

if TYPE_CHECKING:
    from butido_py.app.find_artifact import FoundArtifact

HEADERS = (
    "Package",
    "Version",
    "Image",
    "Path",
    "SHA256",
    "Released",
    "Location",
    "Job",
    "Reused by build",
)


@click.command("find-artifact")
@click.argument("regex")
@click.argument("constraint", required=False)
@click.option(
    "-I",
    "--image",
    metavar="IMAGE",
    help="Only artifacts built in this image (full or short name from docker.images; default: "
    "every image the package was built in).",
)
@env_option("A variable as `build -E` would set it (repeatable; KEY alone takes $KEY).")
@click.option(
    "--staging-dir",
    "staging_dirs",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Also look in this staging directory (a submit's, or a directory of submit "
    "directories); the configured `staging` is always searched. Repeatable.",
)
@click.option(
    "-S",
    "--no-script-filter",
    is_flag=True,
    help="Do not compare job keys (script, image digest, sources, patches, inputs): list every "
    "artifact of a succeeded job of the package, version and image whose environment is the one "
    "a build would use.",
)
@output_options
@repository_options
@click.pass_obj
def find_artifact(
    app: AppContext,
    regex: str,
    constraint: str | None,
    image: str | None,
    env: tuple[tuple[str, str], ...],
    staging_dirs: tuple[Path, ...],
    no_script_filter: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
    commit: str,
    allow_dirty: bool,
) -> None:
    """List the artifacts a build of the packages matching REGEX (and CONSTRAINT) would reuse.

    For each package the dependency tree is walked as `butido build` plans it and each job key is
    computed (script, image digest as recorded in the database, environment including the git
    variables, sources, patches, the inputs' sha256); every artifact of an earlier succeeded job
    with the package's key is listed where it is on disk with its recorded sha256: in the staging
    directories and in the release stores. "Reused by build" marks the job a build would take.
    Exits 0 also when nothing is found (a note goes to stderr).
    """
    # Imported here: SQLAlchemy and the template engine are slow to import.
    from butido_py.app.find_artifact import (  # noqa: PLC0415
        FindArtifactRequest,
        find_artifacts,
    )

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    request = FindArtifactRequest(
        regex=regex,
        constraint=constraint,
        image=image,
        env=env,
        staging_dirs=staging_dirs,
        script_filter=not no_script_filter,
    )
    config = app.config
    repository = app.repository(commit, allow_dirty)
    result = find_artifacts(request, config=config, repository=repository, db=app.database())
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if not result.artifacts:
        click.echo("no artifact found", err=True)
    if fmt is OutputFormat.JSON:
        print_json([_json(a) for a in result.artifacts])
        return
    render_rows(HEADERS, [_row(a) for a in result.artifacts], fmt, header=not no_header)


def _json(artifact: FoundArtifact) -> dict[str, object]:
    return {
        "package": artifact.package,
        "version": artifact.version,
        "image": artifact.image,
        "image_digest": artifact.image_digest,
        # `path` and `file` as in the release object (docs/json.md): the artifact's path in its
        # store or staging directory, and where it is on this machine.
        "path": artifact.path,
        "file": str(artifact.file),
        "sha256": artifact.sha256,
        "location": artifact.location,
        "released_at": artifact.release_date.isoformat() if artifact.release_date else None,
        "job": str(artifact.job),
        "submit": str(artifact.submit),
        "reused_by_build": artifact.chosen,
    }


def _row(artifact: FoundArtifact) -> tuple[object, ...]:
    if artifact.release_date is not None:
        released: str = artifact.release_date.isoformat(timespec="seconds")
    else:
        released = "unknown" if artifact.location != "staging" else "unreleased"
    chosen = "-" if artifact.chosen is None else ("yes" if artifact.chosen else "no")
    return (
        artifact.package,
        artifact.version,
        artifact.image,
        str(artifact.file),
        artifact.sha256,
        released,
        artifact.location,
        str(artifact.job),
        chosen,
    )


COMMANDS = (find_artifact,)
