"""The import rules of DESIGN.md §1: each kind of I/O has one seam, the core stays pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "butido_py"

CORE = (
    "config",
    "package",
    "repository/layers",
    "plan",
    "script",
    "logproto",
    "endpoint/scheduler",
)
IMPURE = {"docker", "sqlalchemy", "alembic", "subprocess", "click", "requests", "git", "socket",
          "urllib.request", "http", "tqdm"}  # fmt: skip


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def uses(path: Path, top: str) -> bool:
    return any(name == top or name.startswith(top + ".") for name in imported(path))


def relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def test_there_are_modules_to_check() -> None:
    assert len(modules()) > 10


@pytest.mark.parametrize(
    ("library", "allowed_prefix"),
    [
        ("docker", "endpoint/docker"),
        ("sqlalchemy", "db/"),
        ("alembic", "db/"),
        ("click", "cli/"),
        ("tqdm", "cli/"),
        ("git", "repository/git"),
        ("subprocess", "process.py"),
    ],
)
def test_library_is_imported_only_by_its_adapter(library: str, allowed_prefix: str) -> None:
    offenders = [
        relative(path)
        for path in modules()
        if uses(path, library) and not relative(path).startswith(allowed_prefix)
    ]
    assert offenders == []


def test_core_modules_are_pure() -> None:
    offenders = []
    for path in modules():
        name = relative(path)
        if not name.startswith(CORE):
            continue
        offenders += [f"{name}: {lib}" for lib in sorted(IMPURE) if uses(path, lib)]
    assert offenders == []


def test_only_the_cli_prints() -> None:
    offenders = []
    for path in modules():
        if relative(path).startswith("cli/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
            ):
                offenders.append(f"{relative(path)}:{node.lineno}")
    assert offenders == []


def test_inner_layers_do_not_import_the_cli() -> None:
    offenders = [
        relative(path)
        for path in modules()
        if not relative(path).startswith("cli/")
        and relative(path) != "__main__.py"
        and uses(path, "butido_py.cli")
    ]
    assert offenders == []
