"""`butido release …`: releasing staged artifacts into release stores."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import click

from butido_py.cli.confirm import confirm
from butido_py.cli.context import AppContext
from butido_py.cli.lazy import LazyCommand, LazyGroup
from butido_py.cli.options import SUBMIT_REF
from butido_py.cli.render import print_json
from butido_py.cli.warnings import color_allowed

if TYPE_CHECKING:
    from butido_py.app.release import ReleasedArtifact, ReleaseResult, RemovalPlan, RemovalResult

_yes_option = click.option("-y", "--yes", is_flag=True, help="Answer every question with yes.")


#: `release list` is `db releases`: the same command, listed under a second name.
_LIST = LazyCommand(
    "butido_py.cli.commands.db.listings",
    "List releases: package, version, date, and where the file is; newest first.",
    original="releases",
)


@click.group("release", cls=LazyGroup, lazy={"list": _LIST})
def release_group() -> None:
    """Copy artifacts of a submit into release stores, and manage released files."""


@release_group.command("new")
@click.argument("submit_uuid", metavar="SUBMIT", type=SUBMIT_REF)
@click.argument("package", metavar="[PKG]", required=False)
@click.argument("version", metavar="[VERSION]", required=False)
@click.option("--to", "store", required=True, metavar="STORE", help="The release store.")
@click.option(
    "--update",
    is_flag=True,
    help="Replace files that are already in the store (asks first) and release them again.",
)
@click.option(
    "--non-interactive", is_flag=True, help="Do not ask before replacing files (butido's flag)."
)
@click.option(
    "--force",
    is_flag=True,
    help="Release from a submit that did not succeed (failed, canceled, lost, running).",
)
@_yes_option
@click.option("-q", "--quiet", is_flag=True, help="Do not print the released files.")
@click.option(
    "--staging-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="The submit's staging directory, if the build was given one (default: "
    "<staging>/<SUBMIT>).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was released and skipped.")
@click.pass_obj
def release_new(
    app: AppContext,
    submit_uuid: uuid.UUID,
    package: str | None,
    version: str | None,
    store: str,
    update: bool,
    non_interactive: bool,
    force: bool,
    yes: bool,
    quiet: bool,
    staging_dir: Path | None,
    as_json: bool,
) -> None:
    """Release the artifacts of SUBMIT (only those of PKG, and of exactly VERSION) into STORE.

    Each staged file is checked against its recorded sha256, copied under a temporary name,
    checked again and renamed into <releases_root>/STORE/. An identical file already in the store
    is left as it is; a different one refuses the release unless --update. A submit that did not
    succeed is refused unless --force. Exits non-zero if any artifact could not be released.
    """
    from butido_py.app.release import (  # noqa: PLC0415 - SQLAlchemy is slow to import
        ReleaseAction,
        ReleaseRequest,
        plan_release,
        run_release,
    )

    services = app.services()
    request = ReleaseRequest(submit_uuid, store, package, version, update, staging_dir, force)
    plan = plan_release(request, services)
    updates = plan.with_action(ReleaseAction.UPDATE)
    if updates:
        for item in updates:
            click.echo(f"Going to update: {item.destination} ({item.reason})", err=True)
        confirm(f"Replace {len(updates)} file(s) in {store}?", yes=yes or non_interactive)
    result = run_release(plan, services)
    if as_json:
        print_json(_release_json(result))
    else:
        _echo_release(result, quiet=quiet)
    failure = result.failure()
    if failure is not None:
        raise failure


def _echo_release(result: ReleaseResult, *, quiet: bool) -> None:
    from butido_py.app.release import ReleaseOutcome  # noqa: PLC0415

    for item in result.items:
        if item.outcome is ReleaseOutcome.FAILED:
            click.secho(
                f"error: {item.destination}: {item.reason}",
                fg="red",
                err=True,
                color=color_allowed(),
            )
        elif not quiet and item.outcome is not ReleaseOutcome.SKIPPED:
            click.echo(str(item.destination))
    skipped = result.with_outcome(ReleaseOutcome.SKIPPED)
    if skipped and not quiet:
        # One line, not one per file: re-running a release is routine and not news.
        everything = "nothing to do: " if len(skipped) == len(result.items) else ""
        click.echo(
            f"{everything}{len(skipped)} artifact(s) already in release store {result.store!r} "
            "(identical files, left as they are)",
            err=True,
        )


def _release_json(result: ReleaseResult) -> dict[str, object]:
    from butido_py.app.release import ReleaseOutcome  # noqa: PLC0415

    def entry(item: ReleasedArtifact) -> dict[str, object]:
        # `path`, `file` and `released_at` as in the release object (docs/json.md).
        return {
            "package": item.package,
            "version": item.version,
            "path": item.artifact,
            "file": str(item.destination),
            "sha256": item.sha256,
            "released_at": item.release_date.isoformat() if item.release_date else None,
            "updated": item.outcome is ReleaseOutcome.UPDATED,
            "reason": item.reason,
        }

    return {
        "submit": str(result.submit),
        "store": result.store,
        "released": [
            entry(i) for i in result.with_outcome(ReleaseOutcome.RELEASED, ReleaseOutcome.UPDATED)
        ],
        "skipped": [entry(i) for i in result.with_outcome(ReleaseOutcome.SKIPPED)],
        "failed": [entry(i) for i in result.with_outcome(ReleaseOutcome.FAILED)],
    }


@release_group.command("rm")
@click.option("--from", "store", required=True, metavar="STORE", help="The release store.")
@click.argument("name")
@click.argument("version")
@_yes_option
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
@click.pass_obj
def release_rm(
    app: AppContext, store: str, name: str, version: str, yes: bool, as_json: bool
) -> None:
    """Remove package NAME of exactly VERSION from STORE: its files and its release records.

    The artifact records stay, so the version can be released again from its staging directory.
    """
    from butido_py.app.release import plan_removal, run_removal  # noqa: PLC0415

    services = app.services()
    plan = plan_removal(services, store=store, name=name, version=version)
    _echo_removal_plan(plan)
    confirm(f"Remove {name} {version} from {store}?", yes=yes)
    result = run_removal(plan, services)
    if as_json:
        print_json(_removal_json(result))
        return
    for path in result.deleted:
        click.echo(f"deleted {path}")
    for path in result.already_missing:
        click.echo(f"{path} was already gone", err=True)
    click.echo(f"removed {result.removed_releases} release record(s) of {name} {version}")


def _echo_removal_plan(plan: RemovalPlan) -> None:
    for path in plan.files:
        shown = path if path.is_file() else f"{path} (not there)"
        click.echo(f"Going to delete: {shown}", err=True)
    for release in plan.releases:
        click.echo(
            f"Going to remove from database: release with ID {release.id} from "
            f"{release.release_date:%Y-%m-%d %H:%M:%S} UTC ({release.artifact_path})",
            err=True,
        )


def _removal_json(result: RemovalResult) -> dict[str, object]:
    return {
        "store": result.store,
        "package": result.name,
        "version": result.version,
        "deleted": [str(path) for path in result.deleted],
        "already_missing": [str(path) for path in result.already_missing],
        "removed_releases": result.removed_releases,
    }


COMMANDS: tuple[click.Command, ...] = (release_group,)
