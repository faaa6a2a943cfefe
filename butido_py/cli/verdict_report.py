"""Reproducibility verdicts as a table or JSON (`butido rebuild`, `butido db submit`)."""

from __future__ import annotations

from collections.abc import Sequence

import click

from butido_py.app.verdicts import count_verdicts
from butido_py.cli.render import OutputFormat, render_rows
from butido_py.db.records import RebuildResultRecord

#: Lines of a diff summary shown under the table (the whole text is in the database).
SHOWN_DIFF_LINES = 40

_HEADERS = ("Package", "Version", "Path", "Verdict")


def echo_verdicts(results: Sequence[RebuildResultRecord], *, diffs: bool = True) -> None:
    rows = [(r.package_name, r.package_version, r.path, r.verdict.value) for r in results]
    render_rows(_HEADERS, rows, OutputFormat.TABLE)
    click.echo(f"Verdicts: {counts_text(results) or 'no artifacts'}")
    if not diffs:
        return
    for result in results:
        if result.diff_summary:
            lines = result.diff_summary.rstrip("\n").splitlines()
            click.echo(
                f"\ndiffoscope: {result.package_name} {result.package_version} {result.path}"
            )
            for line in lines[:SHOWN_DIFF_LINES]:
                click.echo(f"  {line}")
            if len(lines) > SHOWN_DIFF_LINES:
                click.echo(f"  … {len(lines) - SHOWN_DIFF_LINES} more lines (`--json` has all)")


def counts_text(results: Sequence[RebuildResultRecord]) -> str:
    return ", ".join(f"{n} {v}" for v, n in count_verdicts(r.verdict for r in results).items())


def verdicts_json(results: Sequence[RebuildResultRecord]) -> list[dict[str, object]]:
    return [
        {
            "package": r.package_name,
            "version": r.package_version,
            "path": r.path,
            "verdict": r.verdict.value,
            "original_artifact_id": r.original_artifact_id,
            "rebuilt_artifact_id": r.rebuilt_artifact_id,
            "diff_summary": r.diff_summary,
        }
        for r in results
    ]
