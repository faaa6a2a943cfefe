"""The layer rules of DESIGN.md §1 and docs/architecture.md, checked on the source.

Every module of butido_py/ is parsed once per test session (`package_modules`); the checks below are
plain functions over those parsed modules, so the same checker runs over a planted tree in
`test_the_checker_reports_planted_violations` and must fail there: the rules can fail.

What counts as an import: every `import` and `from … import` anywhere in a module, including
imports inside functions (deferred for start-up time) and under `if TYPE_CHECKING:`. A deferred
import is still a dependency, and a type-only one still ties the inner layer to the outer one's
vocabulary, so neither is exempt; no module needs it today (app/ may import orchestrator/ anyway).
A justified exception goes into `ALLOWED` with its reason; keep it empty.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "butido_py"
PACKAGE_NAME = "butido_py"

MAX_MODULE_LINES = 600
MAX_FUNCTION_BODY_LINES = 50


class Layer(StrEnum):
    CORE = "core"
    ADAPTER = "adapter"
    ORCHESTRATOR = "orchestrator"
    APP = "app"
    EDGE = "edge"


#: Which layer each module belongs to, by path prefix under butido_py/ (the longest prefix wins).
#: A new module whose path matches nothing fails `test_every_module_has_a_layer`: decide its layer.
LAYERS: dict[str, Layer] = {
    # Core: pure models and decisions, no I/O.
    "__init__.py": Layer.CORE,
    "errors.py": Layer.CORE,
    "states.py": Layer.CORE,
    "timespec.py": Layer.CORE,
    "logproto.py": Layer.CORE,
    "config/": Layer.CORE,
    "package/": Layer.CORE,
    "plan/": Layer.CORE,
    "script/": Layer.CORE,
    "repository/__init__.py": Layer.CORE,
    "repository/layers.py": Layer.CORE,
    "repository/model.py": Layer.CORE,
    "endpoint/__init__.py": Layer.CORE,
    "endpoint/scheduler.py": Layer.CORE,
    # Adapters: each kind of I/O in one place.
    "db/": Layer.ADAPTER,
    "endpoint/docker": Layer.ADAPTER,
    "endpoint/checks.py": Layer.ADAPTER,
    "repository/git": Layer.ADAPTER,
    "repository/load.py": Layer.ADAPTER,
    "repository/toml_cache.py": Layer.ADAPTER,
    "repository/source_dates.py": Layer.ADAPTER,
    "stores/": Layer.ADAPTER,
    "sources/": Layer.ADAPTER,
    "process.py": Layer.ADAPTER,
    "lint.py": Layer.ADAPTER,
    "tracing.py": Layer.ADAPTER,
    # Application: one function per operation, and the orchestrator that runs a build for it.
    "orchestrator/": Layer.ORCHESTRATOR,
    "app/": Layer.APP,
    # Edges: parse, call one app function, render.
    "cli/": Layer.EDGE,
    "web/": Layer.EDGE,
    "__main__.py": Layer.EDGE,
}

#: Which layers each layer must not import (DESIGN.md §1: inner layers never import outer ones).
FORBIDDEN: dict[Layer, frozenset[Layer]] = {
    Layer.CORE: frozenset({Layer.ADAPTER, Layer.ORCHESTRATOR, Layer.APP, Layer.EDGE}),
    Layer.ADAPTER: frozenset({Layer.ORCHESTRATOR, Layer.APP, Layer.EDGE}),
    Layer.ORCHESTRATOR: frozenset({Layer.APP, Layer.EDGE}),
    Layer.APP: frozenset({Layer.EDGE}),
    Layer.EDGE: frozenset(),
}

#: Edges call app/, they never drive a build themselves.
EDGE_FORBIDDEN_MODULES = ("butido_py.orchestrator.run",)
EDGE_FORBIDDEN_NAMES = ("BuildRun",)

#: Exceptions to the rules above: (module path, imported module) -> why. Keep it empty.
ALLOWED: dict[tuple[str, str], str] = {}

#: Third-party and stdlib libraries that only their adapter (or edge) may import.
LIBRARY_OWNERS = {
    "docker": "endpoint/docker",
    "sqlalchemy": "db/",
    "alembic": "db/",
    "click": "cli/",
    "tqdm": "cli/",
    "git": "repository/git",
    "subprocess": "process.py",
}
#: What the core must not import at all, wherever the import is.
IMPURE = {"docker", "sqlalchemy", "alembic", "subprocess", "click", "requests", "git", "socket",
          "urllib.request", "http", "tqdm"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Import:
    module: str
    line: int
    #: Under `if TYPE_CHECKING:`.
    type_only: bool
    #: Inside a function (deferred for start-up time).
    deferred: bool

    def describe(self) -> str:
        where = (
            " (TYPE_CHECKING)" if self.type_only else " (in a function)" if self.deferred else ""
        )
        return f"{self.module}{where}"


@dataclass(frozen=True, slots=True)
class Module:
    #: Path under the package directory, e.g. "db/jobs.py".
    path: str
    tree: ast.Module
    lines: int
    imports: tuple[Import, ...]

    def uses(self, top: str) -> bool:
        return any(i.module == top or i.module.startswith(top + ".") for i in self.imports)


def scan(root: Path, package: str = PACKAGE_NAME) -> tuple[Module, ...]:
    """Parse every module under `root` (the directory of `package`) once."""
    found = []
    for file in sorted(root.rglob("*.py")):
        path = file.relative_to(root).as_posix()
        text = file.read_text()
        tree = ast.parse(text, filename=str(file))
        dotted = [package, *path.removesuffix(".py").split("/")]
        # The package relative imports start from (for __init__.py, dotted ends in "__init__").
        imports = tuple(_imports(tree, parent=dotted[:-1]))
        found.append(Module(path, tree, len(text.splitlines()), imports))
    return tuple(found)


@functools.cache
def package_modules() -> tuple[Module, ...]:
    return scan(PACKAGE)


def _imports(tree: ast.Module, parent: list[str]) -> Iterator[Import]:
    """Every import in `tree`; `parent` is the dotted package relative imports start from."""

    def visit(node: ast.AST, type_only: bool, deferred: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(alias.name, child.lineno, type_only, deferred)
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(child, parent)
                yield Import(base, child.lineno, type_only, deferred)
                # `from butido_py.db import jobs` imports the module butido_py.db.jobs.
                for alias in child.names:
                    yield Import(f"{base}.{alias.name}", child.lineno, type_only, deferred)
            else:
                yield from visit(
                    child,
                    type_only or _is_type_checking_block(child),
                    deferred or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef),
                )

    yield from visit(tree, type_only=False, deferred=False)


def _absolute(node: ast.ImportFrom, parent: list[str]) -> str:
    if node.level == 0:
        return node.module or ""
    base = parent[: len(parent) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def layer_of(path: str) -> Layer | None:
    matches = [prefix for prefix in LAYERS if path.startswith(prefix)]
    return LAYERS[max(matches, key=len)] if matches else None


def target_path(module: str, paths: set[str], package: str = PACKAGE_NAME) -> str | None:
    """The module file a dotted name inside `package` refers to, if it is a module."""
    if module != package and not module.startswith(package + "."):
        return None
    inner = module.removeprefix(package).removeprefix(".").replace(".", "/")
    for candidate in (f"{inner}.py", f"{inner}/__init__.py" if inner else "__init__.py"):
        if candidate in paths:
            return candidate
    if any(path.startswith(f"{inner}/") for path in paths):
        return f"{inner}/"  # a namespace package (no __init__.py), e.g. cli/
    return None  # a name imported from a module, not a module


def layer_violations(modules: Iterable[Module], package: str = PACKAGE_NAME) -> list[str]:
    modules = tuple(modules)
    paths = {module.path for module in modules}
    found = []
    for module in modules:
        source = layer_of(module.path)
        if source is None:
            continue
        for imp in module.imports:
            target = target_path(imp.module, paths, package)
            layer = layer_of(target) if target else None
            if layer in FORBIDDEN[source] and (module.path, imp.module) not in ALLOWED:
                found.append(
                    f"{module.path}:{imp.line} imports {imp.describe()}: {source} -> {layer}"
                )
    return sorted(set(found))


def edge_violations(modules: Iterable[Module]) -> list[str]:
    """Edges never drive the orchestrator: no orchestrator.run, nothing named BuildRun."""
    found = []
    for module in modules:
        if layer_of(module.path) is not Layer.EDGE:
            continue
        found += [
            f"{module.path}:{imp.line} imports {imp.describe()}"
            for imp in module.imports
            if imp.module.startswith(EDGE_FORBIDDEN_MODULES)
            or imp.module.rsplit(".", 1)[-1] in EDGE_FORBIDDEN_NAMES
        ]
        found += [
            f"{module.path}:{node.lineno} names {_name_of(node)}"
            for node in ast.walk(module.tree)
            if isinstance(node, ast.Name | ast.Attribute) and _name_of(node) in EDGE_FORBIDDEN_NAMES
        ]
    return sorted(set(found))


def _name_of(node: ast.Name | ast.Attribute) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr


def print_violations(modules: Iterable[Module]) -> list[str]:
    """Only the edges write to the terminal: print(), sys.stdout/stderr.write, click.echo."""
    found = []
    for module in modules:
        if layer_of(module.path) is Layer.EDGE:
            continue
        found += [
            f"{module.path}:{node.lineno}"
            for node in ast.walk(module.tree)
            if isinstance(node, ast.Call) and _prints(node.func)
        ]
    return found


def _prints(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"print", "pprint"}
    if not isinstance(func, ast.Attribute):
        return False
    owner = ast.unparse(func.value)
    return (owner in {"sys.stdout", "sys.stderr"} and func.attr == "write") or (
        owner == "click" and func.attr in {"echo", "secho"}
    )


def size_violations(modules: Iterable[Module]) -> list[str]:
    """Modules over 600 lines; function bodies over 50 lines, counted from the first statement of
    the body (a docstring counts) to its last line: decorators and the signature (a click
    command's options) are not counted."""
    found = []
    for module in modules:
        if module.lines > MAX_MODULE_LINES:
            found.append(f"{module.path}: {module.lines} lines")
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = (node.body[-1].end_lineno or node.body[-1].lineno) - node.body[0].lineno + 1
                if body > MAX_FUNCTION_BODY_LINES:
                    found.append(f"{module.path}:{node.lineno} {node.name}: {body} body lines")
    return found


def test_there_are_modules_to_check() -> None:
    assert len(package_modules()) > 10


def test_every_module_has_a_layer() -> None:
    assert [m.path for m in package_modules() if layer_of(m.path) is None] == []


def test_inner_layers_do_not_import_outer_ones() -> None:
    """Core imports no adapter, orchestrator, app or edge; adapters no orchestrator, app or edge;
    the orchestrator no app or edge; app/ no edge."""
    assert layer_violations(package_modules()) == []


def test_edges_do_not_drive_the_orchestrator() -> None:
    assert edge_violations(package_modules()) == []


def test_only_the_edges_print() -> None:
    assert print_violations(package_modules()) == []


def test_modules_and_functions_are_small() -> None:
    assert size_violations(package_modules()) == []


def test_the_allow_list_names_existing_modules() -> None:
    paths = {m.path for m in package_modules()}
    assert [path for path, _ in ALLOWED if path not in paths] == []


@pytest.mark.parametrize(("library", "owner"), sorted(LIBRARY_OWNERS.items()))
def test_library_is_imported_only_by_its_adapter(library: str, owner: str) -> None:
    offenders = [
        m.path for m in package_modules() if m.uses(library) and not m.path.startswith(owner)
    ]
    assert offenders == []


def test_core_modules_are_pure() -> None:
    offenders = [
        f"{m.path}: {library}"
        for m in package_modules()
        if layer_of(m.path) is Layer.CORE
        for library in sorted(IMPURE)
        if m.uses(library)
    ]
    assert offenders == []


PLANTED = {
    "__init__.py": "",
    "config/__init__.py": "",
    # Core -> adapter, relative and inside a function: deferred imports count.
    "config/model.py": "def f():\n    from ..db import jobs\n    return jobs\n",
    "plan/__init__.py": "",
    # Core -> adapter under TYPE_CHECKING: type-only imports count too; and a print.
    "plan/dag.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from butido_py.stores.staging import Staging\n"
        "print('hello')\n"
    ),
    "db/__init__.py": "",
    # Adapter -> orchestrator.
    "db/jobs.py": "from butido_py.orchestrator import run\n",
    "stores/__init__.py": "",
    "stores/staging.py": "import sys\nsys.stdout.write('x')\n",
    "orchestrator/__init__.py": "",
    # Orchestrator -> app.
    "orchestrator/run.py": "import butido_py.app.build\nclass BuildRun: ...\n",
    "app/__init__.py": "",
    # App -> edge; and a function body of 51 lines.
    "app/build.py": "from butido_py.cli import main\n\ndef long():\n" + "    x = 1\n" * 51,
    # The edge drives the orchestrator.
    "cli/main.py": "from butido_py.orchestrator.run import BuildRun\nBuildRun()\n",
    "cli/fine.py": "import click\nclick.echo('an edge may print')\n",
}


def test_the_checker_reports_planted_violations(tmp_path: Path) -> None:
    root = tmp_path / PACKAGE_NAME
    for path, text in PLANTED.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    modules = scan(root)
    assert layer_violations(modules) == [
        "app/build.py:1 imports butido_py.cli.main: app -> edge",
        "app/build.py:1 imports butido_py.cli: app -> edge",  # a namespace package
        "config/model.py:2 imports butido_py.db (in a function): core -> adapter",
        "config/model.py:2 imports butido_py.db.jobs (in a function): core -> adapter",
        "db/jobs.py:1 imports butido_py.orchestrator.run: adapter -> orchestrator",
        "db/jobs.py:1 imports butido_py.orchestrator: adapter -> orchestrator",
        "orchestrator/run.py:1 imports butido_py.app.build: orchestrator -> app",
        "plan/dag.py:3 imports butido_py.stores.staging (TYPE_CHECKING): core -> adapter",
    ]
    assert edge_violations(modules) == [
        "cli/main.py:1 imports butido_py.orchestrator.run",
        "cli/main.py:1 imports butido_py.orchestrator.run.BuildRun",
        "cli/main.py:2 names BuildRun",
    ]
    assert print_violations(modules) == ["plan/dag.py:4", "stores/staging.py:2"]
    assert size_violations(modules) == ["app/build.py:3 long: 51 body lines"]


def test_the_checker_accepts_a_clean_tree(tmp_path: Path) -> None:
    root = tmp_path / PACKAGE_NAME
    clean = {
        "__init__.py": "",
        "db/__init__.py": "",
        "db/jobs.py": "from butido_py.config import model\nfrom ..plan import dag\n",
        "config/__init__.py": "",
        "config/model.py": "",
        "plan/__init__.py": "",
        "plan/dag.py": "from .. import errors\n",
        "errors.py": "",
        "app/__init__.py": "",
        "app/build.py": "from butido_py.orchestrator.run import BuildRun\n",
        "orchestrator/__init__.py": "",
        "orchestrator/run.py": "from butido_py.db.jobs import model\n",
    }
    for path, text in clean.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    modules = scan(root)
    assert (layer_violations(modules), edge_violations(modules)) == ([], [])
    assert (print_violations(modules), size_violations(modules)) == ([], [])
