"""`butido init DIR`: a new package repository from the example template, ready to use."""

from __future__ import annotations

import os
from pathlib import Path

import click

from butido_py.cli.context import AppContext
from butido_py.config import load_config
from butido_py.repository.git_init import (
    FALLBACK_EMAIL,
    FALLBACK_NAME,
    TEMPLATE_SOURCES,
    copy_template,
    find_template,
    fresh_directory,
    init_and_commit,
)
from butido_py.repository.load import load_repository
from butido_py.sources.cache import SourceCache, import_cache_tree, verify_sources

#: The package at the top of the example tree.
TOP_PACKAGE = "desktop"


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
    app = ctx.ensure_object(AppContext)
    target = directory.resolve()
    template = find_template()
    with fresh_directory(target):
        files = copy_template(template, target)
        click.echo(f"copied the example repository ({len(files)} files) from {template}")
        commit = init_and_commit(target, "Example package repository (butido init)")
        identity = (
            f" as {FALLBACK_NAME} <{FALLBACK_EMAIL}> (git has no user.name/user.email)"
            if commit.fallback_identity
            else ""
        )
        click.echo(f"git repository initialised, first commit {commit.sha[:12]}{identity}")
        # Read after `git init`, so that target (not an enclosing repository) is the root.
        loaded = load_config(cwd=target, environ=os.environ, config_file=app.config_file)
        cache = loaded.config.source_cache
        imported = import_cache_tree(template / TEMPLATE_SOURCES, cache)
        click.echo(
            f"source cache {cache}: {len(imported.copied)} sources added, "
            f"{len(imported.kept)} already there"
        )
    repository = load_repository(target)
    entries = SourceCache(cache).entries(repository.packages)
    bad = [r for r in verify_sources(entries) if not r.ok]
    for result in bad:
        click.secho(f"warning: {result.entry.label}: {result.message}", fg="yellow", err=True)
    click.echo(
        f"{len(repository.packages)} packages, {len(entries) - len(bad)} of {len(entries)} "
        "sources verified\n"
        "\n"
        "Next:\n"
        f"  cd {target}\n"
        f"  butido tree-of {TOP_PACKAGE}\n"
        "  butido source verify --matching .\n"
        "  butido build hello 2.12.1 -I tiny"
    )


COMMANDS: tuple[click.Command, ...] = (init,)
