"""A small tmpfs mounted for one test: a full disk or a read-only directory, made for real."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(where: Path, *options: str) -> Iterator[Path]:
    """An empty tmpfs at `where` with mount `options` (`size=1m`, `ro`); skips the test when
    mounting is not permitted. Root writes any directory its mode forbids: `ro` is what stops it."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs at {where}: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
