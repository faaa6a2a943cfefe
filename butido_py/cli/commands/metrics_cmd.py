"""`butido metrics`: counts of the configuration, the repository and the database."""

from __future__ import annotations

import click

from butido_py import __version__
from butido_py.cli.context import AppContext
from butido_py.cli.options import repository_options
from butido_py.cli.render import print_json


@click.command("metrics")
@repository_options
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_obj
def metrics(app: AppContext, commit: str, allow_dirty: bool, as_json: bool) -> None:
    """Print the version, and counts of the configuration, the package repository (at --commit)
    and every database table, plus the jobs by state."""
    from butido_py.db.counts import count_jobs_by_state, count_rows  # noqa: PLC0415

    config = app.config
    repository = app.repository(commit, allow_dirty)
    db = app.database()
    figures: dict[str, dict[str, object]] = {
        "configuration": {
            "endpoints": len(config.docker.endpoints),
            "images": len(config.docker.images),
            "release_stores": len(config.release_stores),
            "phases": len(config.available_phases),
        },
        "repository": {
            "commit": repository.commit,
            "pkg_toml_files": repository.pkg_toml_count,
            "packages": len(repository.packages),
        },
        "database": {"url": db.display_url, "tables": count_rows(db)},
        "jobs_by_state": {state.value: n for state, n in count_jobs_by_state(db).items()},
    }
    if as_json:
        print_json({"version": __version__, **figures})
        return
    click.echo(f"butido_py {__version__}")
    for section, values in figures.items():
        click.echo(f"\n{section.replace('_', ' ').capitalize()}:")
        for label, value in _lines(section, values):
            click.echo(f"  {label + ':':<22}{value}")


_LABELS = {"pkg_toml_files": "pkg.toml files"}


def _lines(section: str, values: dict[str, object]) -> list[tuple[str, object]]:
    """Table and state names are shown as they are; the other keys as words. The per-table
    counts of the database become one line each."""
    if section == "jobs_by_state":
        return list(values.items())
    lines: list[tuple[str, object]] = []
    for key, value in values.items():
        if isinstance(value, dict):
            lines += [(str(inner), count) for inner, count in value.items()]
        else:
            lines.append((_LABELS.get(key, key.replace("_", " ")), value))
    return lines


COMMANDS: tuple[click.Command, ...] = (metrics,)
