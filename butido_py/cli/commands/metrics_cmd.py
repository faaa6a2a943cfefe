"""Placeholder: the owner of this module replaces it with real commands."""

from __future__ import annotations

import click

COMMANDS: tuple[click.Command, ...] = ()
