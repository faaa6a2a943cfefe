"""Rendering of `build --dry-run` decisions and `--explain` reasons (text and JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from butido_py.app.dry_run import DryRun
    from butido_py.app.explain import JobExplanation


def echo_dry_run(dry: DryRun, *, as_json: bool, explain: bool) -> None:
    """Each job's decision; with `explain`, why."""
    from butido_py.app.dry_run import Decision  # noqa: PLC0415 - only with --dry-run

    prepared = dry.prepared
    if as_json:
        click.echo(
            json.dumps(
                {
                    "dry_run": True,
                    "package": prepared.root.name,
                    "version": prepared.root.version,
                    "image": prepared.image,
                    "commit": prepared.commit,
                    "jobs": [decision.as_json() for decision in dry.decisions],
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"Dry run: {prepared.root.name} {prepared.root.version} on {prepared.image} at "
        f"{prepared.commit[:12]}: {len(dry.decisions)} jobs, nothing recorded or started"
    )
    width = max((len(d.job.label) for d in dry.decisions), default=0)
    for decision in dry.decisions:
        text = decision.reason() if explain else str(decision.decision)
        click.echo(f"  {decision.job.label:<{width}}  {text}")
    counts = ", ".join(f"{dry.count(d)} {d}" for d in Decision if dry.count(d))
    click.echo(f"Decisions: {counts}")


def explain_json(explanations: Sequence[JobExplanation]) -> list[dict[str, object]]:
    return [explanation.as_json() for explanation in explanations]


def echo_explanations(explanations: Sequence[JobExplanation]) -> None:
    if not explanations:
        return
    click.echo("Why:")
    width = max(len(e.label) for e in explanations)
    for explanation in explanations:
        click.echo(f"  {explanation.label:<{width}}  {explanation.reason()}")
