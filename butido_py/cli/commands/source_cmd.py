"""`butido source …`: the source cache (verification, download, listing)."""

from __future__ import annotations

import click


@click.group("source")
def source_group() -> None:
    """Verify, download and list the sources of packages."""


COMMANDS: tuple[click.Command, ...] = (source_group,)
