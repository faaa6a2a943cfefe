"""Completion of values (cli/completion.py): package names and versions from the example
repository's pkg.toml files, image short names, endpoints and release stores from its
configuration; the command tree runs in this process, as the shell's completion request would."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from butido_py.cli.context import AppContext
from butido_py.cli.main import run
from tests.e2e.test_metrics import CONFIG, template_repo

__all__ = ["template_repo"]


def complete(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], line: str
) -> list[str]:
    """What bash would offer for `line` (the last word being completed)."""
    words = line.split(" ")
    monkeypatch.setenv("_BUTIDO_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", line)
    monkeypatch.setenv("COMP_CWORD", str(len(words) - 1))
    app = AppContext()
    with pytest.raises(SystemExit):
        run(app, [])
    if app._database is not None:  # the UUIDs' database
        app._database.close()
    return [item.split(",", 1)[1] for item in capsys.readouterr().out.splitlines()]


@pytest.fixture
def example(template_repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key in [k for k in os.environ if k.startswith(("BUTIDO_", "XDG_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(template_repo)
    assert 'short_name = "tiny"' in CONFIG
    return template_repo


@pytest.mark.usefixtures("example")
@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("butido build des", ["desktop"]),
        ("butido build desktop ", ["1.0"]),
        ("butido build hello =2", ["2.12.1"]),
        ("butido build desktop 1.0 -I ", ["tiny"]),
        ("butido build desktop 1.0 --endpoint ", ["one", "two"]),
        ("butido release new 9c2aab --to ", ["stable", "testing"]),
        ("butido db jobs -e o", ["one"]),
        ("butido tree-of gtk", ["gtk-lite"]),
    ],
)
def test_values_are_completed(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    line: str,
    offered: list[str],
) -> None:
    assert complete(monkeypatch, capsys, line) == offered
