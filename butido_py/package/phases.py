"""Phases a package defines that the configuration does not run: butido builds a job's script
from `available_phases` only, so such a phase silently never runs. Every command that loads the
packages warns about them (lint and a linted build refuse them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from butido_py.package.model import Package


def unrun_phases(packages: Iterable[Package], available_phases: Sequence[str]) -> list[str]:
    """One message per package that defines phases outside `available_phases`."""
    available = set(available_phases)
    messages = []
    for package in packages:
        unknown = [phase.name for phase in package.phases if phase.name not in available]
        if unknown:
            where = f" ({package.pkg_toml})" if package.pkg_toml else ""
            names = ", ".join(repr(name) for name in unknown)
            messages.append(
                f"package {package.name} {package.version}{where}: phase {names} "
                f"{'is' if len(unknown) == 1 else 'are'} not in available_phases and never runs"
            )
    return messages
