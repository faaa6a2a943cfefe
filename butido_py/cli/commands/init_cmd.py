"""`butido init DIR`: a new package repository from the example template, ready to use."""

from __future__ import annotations

import os
from pathlib import Path

import click

from butido_py.cli.context import AppContext
from butido_py.cli.warnings import echo_warning


@click.command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.pass_context
def init(ctx: click.Context, directory: Path) -> None:
    """Create a package repository in DIRECTORY from butido_py's example.

    DIRECTORY must be new or empty. It receives the example repository (24 packages: a chain, a
    diamond, several versions of zlib, patches, conditional dependencies) and a config.toml for
    the images debian:bookworm and butido-tiny:latest on the local Docker socket. Data
    directories and the SQLite database default to $XDG_DATA_HOME/butido. The example's sources
    are put into the source cache, then `git init` and one commit make the repository usable.
    """
    from butido_py.app.init import TOP_PACKAGE, InitRequest, init_repository  # noqa: PLC0415
    from butido_py.repository.git_init import FALLBACK_EMAIL, FALLBACK_NAME  # noqa: PLC0415

    app = ctx.ensure_object(AppContext)
    done = init_repository(InitRequest(directory, app.config_file, os.environ))
    click.echo(f"copied the example repository ({done.files} files) from {done.template}")
    identity = (
        f" as {FALLBACK_NAME} <{FALLBACK_EMAIL}> (git has no user.name/user.email)"
        if done.commit.fallback_identity
        else ""
    )
    click.echo(f"git repository initialised, first commit {done.commit.sha[:12]}{identity}")
    click.echo(
        f"source cache {done.source_cache}: {done.sources_added} sources added, "
        f"{done.sources_kept} already there"
    )
    for label, message in done.unverified:
        echo_warning(f"{label}: {message}")
    click.echo(
        f"{done.packages} packages, {done.sources - len(done.unverified)} of {done.sources} "
        "sources verified\n"
        "\n"
        "Next:\n"
        f"  cd {done.target}\n"
        f"  butido tree-of {TOP_PACKAGE}\n"
        "  butido source verify --matching .\n"
        "  butido build hello 2.12.1 -I tiny"
    )


COMMANDS: tuple[click.Command, ...] = (init,)
