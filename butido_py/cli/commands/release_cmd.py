"""`butido release …`: releasing staged artifacts into release stores."""

from __future__ import annotations

import click


@click.group("release")
def release_group() -> None:
    """Copy artifacts of a submit into release stores, and manage released files."""


COMMANDS: tuple[click.Command, ...] = (release_group,)
