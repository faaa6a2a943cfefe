"""Rendering of tabular results: a table on a terminal, CSV or JSON on request.

Every listing command goes through `render_rows`, so the formats behave the same everywhere.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from enum import StrEnum

import click


class OutputFormat(StrEnum):
    TABLE = "table"
    PLAIN = "plain"  # space-separated rows without header (stdout is not a terminal)
    CSV = "csv"
    JSON = "json"


def render_rows(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    fmt: OutputFormat,
    *,
    header: bool = True,
) -> None:
    if fmt is OutputFormat.JSON:
        keys = [_json_key(h) for h in headers]
        click.echo(json.dumps([dict(zip(keys, row, strict=True)) for row in rows], indent=2))
        return
    text_rows = [[_text(cell) for cell in row] for row in rows]
    if fmt is OutputFormat.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        if header and _csv_header_requested():
            writer.writerow(headers)
        writer.writerows(text_rows)
        return
    if fmt is OutputFormat.PLAIN:
        for row in text_rows:
            click.echo(" ".join(row))
        return
    _render_table(list(headers), text_rows, header=header)


def _csv_header_requested() -> bool:
    """`--header` was given (butido's CSV has no header line)."""
    ctx = click.get_current_context(silent=True)
    # Imported here: options imports this module's users' decorators, not the reverse.
    from butido_py.cli.options import CSV_HEADER  # noqa: PLC0415

    return ctx is not None and bool(ctx.find_root().meta.get(CSV_HEADER, False))


def _render_table(headers: list[str], rows: list[list[str]], *, header: bool) -> None:
    widths = [len(h) if header else 0 for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    if header:
        click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
        click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _json_key(header: str) -> str:
    # `pkg.toml` is `pkg_toml` in JSON, as every JSON object of docs/json.md names it.
    return header.strip().lower().replace(" ", "_").replace(".", "_").replace("?", "")


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, default=str))
