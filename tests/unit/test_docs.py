"""The documentation names every configuration key and every exit code."""

from __future__ import annotations

from pathlib import Path

from butido_py.config.settings import CONTAINERS, DOCKER, ENDPOINT, IMAGE, TOP_LEVEL
from butido_py.errors import ExitCode

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_configuration_doc_lists_every_key() -> None:
    text = (DOCS / "configuration.md").read_text()
    tables = [("", TOP_LEVEL), ("docker.", DOCKER), ("", IMAGE), ("containers.", CONTAINERS)]
    missing = [
        f"{prefix}{s.key}" for prefix, table in tables for s in table
        if f"`{prefix}{s.key}`" not in text
    ]  # fmt: skip
    missing += [s.key for s in ENDPOINT if f"`{s.key}`" not in text]
    assert missing == []


def test_exit_code_doc_lists_every_code() -> None:
    text = (DOCS / "exit-codes.md").read_text()
    assert [code for code in ExitCode if f"| {code.value} |" not in text] == []
