"""`--commit REV` and `--allow-dirty`: the options of every command that reads the repository."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def repository_options(func: F) -> F:
    """Adds --commit and --allow-dirty; the command receives `commit` and `allow_dirty`."""
    func = click.option(
        "--allow-dirty",
        is_flag=True,
        help="Read package files from the work tree even when they differ from the commit "
        "(the result is marked dirty).",
    )(func)
    return click.option(
        "--commit",
        default="HEAD",
        show_default=True,
        metavar="REV",
        help="Read the package tree from this git revision (anything `git rev-parse` resolves to "
        "a commit: hash, tag, branch, HEAD~1).",
    )(func)
