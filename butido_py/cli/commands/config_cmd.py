"""`butido config check|show`: validate and inspect the effective configuration."""

from __future__ import annotations

import json

import click

from butido_py.cli.context import AppContext
from butido_py.cli.network_note import network_summary, unset_network_mode
from butido_py.cli.options import choose_format, output_options
from butido_py.cli.render import print_json, render_rows
from butido_py.config.database import redact_url, url_problem
from butido_py.config.describe import describe_config
from butido_py.errors import ConfigError


@click.group("config")
def config_group() -> None:
    """Validate and inspect the configuration (files, user config, BUTIDO_* variables)."""


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def check(app: AppContext, as_json: bool) -> None:
    """Load and validate the configuration; print a summary.

    Exit code 0 when the configuration is valid, 3 (with one line per problem) otherwise.
    """
    loaded = app.loaded()
    config = loaded.config
    problem = url_problem(app.database_url())
    if problem is not None:
        raise ConfigError(problem[0], hint=problem[1])
    summary = {
        "valid": True,
        "sources": list(loaded.sources),
        "repository": str(loaded.repository_root) if loaded.repository_root else None,
        "database": redact_url(app.database_url()),
        "endpoints": [e.name for e in config.docker.endpoints],
        "implicit_endpoint": config.docker.implicit_endpoint,
        "images": [i.name for i in config.docker.images],
        "release_stores": list(config.release_stores),
        "phases": list(config.available_phases),
        "ignored_environment": list(loaded.ignored_environment),
        "network_mode_not_set": unset_network_mode(config.docker.endpoints),
    }
    if as_json:
        print_json(summary)
        return
    click.echo("configuration is valid")
    click.echo(f"  read from:       {', '.join(loaded.sources)}")
    endpoints = ", ".join(
        f"{e.name} ({e.uri}, maxjobs {e.maxjobs})" for e in config.docker.endpoints
    )
    if config.docker.implicit_endpoint:
        endpoints += " [none configured: using DOCKER_HOST or the default socket]"
    click.echo(f"  endpoints:       {endpoints}")
    network = network_summary(config.docker.endpoints)
    if network is not None:
        click.echo(f"  network:         {network}")
    images = ", ".join(f"{i.name} ({i.short_name})" for i in config.docker.images) or "none"
    click.echo(f"  images:          {images}")
    click.echo(f"  release stores:  {', '.join(config.release_stores)} in {config.releases_root}")
    click.echo(f"  phases:          {', '.join(config.available_phases)}")
    click.echo(f"  database:        {summary['database']}")
    if loaded.ignored_environment:
        names = ", ".join(loaded.ignored_environment)
        click.echo(f"  ignored:         {names} (not configuration keys)")


@config_group.command("show")
@output_options
@click.pass_obj
def show(app: AppContext, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """Print every effective setting with the file or variable it came from."""
    config = app.config
    items = [
        (key, _masked(key, value), config.origin_of(key) or _origin_of_parent(config.origins, key))
        for key, value in describe_config(config)
    ]
    if as_json:
        print_json({key: {"value": value, "origin": origin} for key, value, origin in items})
        return
    rows = [(key, _display(value), origin) for key, value, origin in items]
    fmt = choose_format(as_json=False, as_csv=as_csv)
    render_rows(["Key", "Value", "Origin"], rows, fmt, header=not no_header)


def _masked(key: str, value: object) -> object:
    """A URL's password never shows (`postgresql://u:***@h/db`)."""
    return redact_url(value) if key == "database_url" and isinstance(value, str) else value


def _display(value: object) -> object:
    if isinstance(value, list | dict):
        return json.dumps(value)
    if isinstance(value, str) and "\n" in value:
        return value.splitlines()[0] + " …"
    return value


def _origin_of_parent(origins: tuple[tuple[str, str], ...], key: str) -> str:
    known = dict(origins)
    parts = key.split(".")
    for end in range(len(parts) - 1, 0, -1):
        origin = known.get(".".join(parts[:end]))
        if origin is not None:
            return origin
    return "default"


COMMANDS: tuple[click.Command, ...] = (config_group,)
