"""Confirmation prompts that never block a script: `--yes` answers them, no terminal refuses."""

from __future__ import annotations

import sys

import click

from butido_py.errors import ButidoError


def confirm(question: str, *, yes: bool) -> None:
    """Return when the user agreed; raise when they declined or nobody can be asked."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise ButidoError(
            f"{question} Not confirmed: stdin is not a terminal",
            hint="pass --yes to confirm in scripts",
        )
    if not click.confirm(question, default=False, err=True):
        raise ButidoError("cancelled, nothing was changed")
