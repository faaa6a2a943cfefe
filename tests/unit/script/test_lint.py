"""The lint runner and the process seam with real linter processes."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from butido_py import script
from butido_py.errors import ScriptError
from butido_py.lint import ScriptSettings, find_linter, lint_packages
from butido_py.process import ProcessError, run
from butido_py.script.assemble import check_phases
from butido_py.script.render import render_script
from tests.unit.script.packages import PHASES, make_package

SETTINGS = ScriptSettings(phases=PHASES, shebang="#!/bin/sh", strict=True)


def write_linter(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_linter_gets_the_rendered_script_on_stdin(tmp_path: Path) -> None:
    linter = write_linter(tmp_path / "lint", 'cat; echo "to stderr" >&2; exit 3')
    [result] = lint_packages([make_package()], linter=linter, settings=SETTINGS, cwd=tmp_path)
    assert not result.ok
    assert result.returncode == 3
    assert result.stdout.startswith("#!/bin/sh\n### phase sourcecheck\necho sourcecheck\n")
    assert result.stderr == "to stderr\n"


def test_results_keep_the_order_of_the_packages(tmp_path: Path) -> None:
    linter = write_linter(tmp_path / "lint", "grep -q 'echo b-' && exit 1; exit 0")
    packages = [make_package(phases={p: f"echo {name}-{p}" for p in PHASES}) for name in "abc"]
    results = lint_packages(packages, linter=linter, settings=SETTINGS, workers=3)
    assert [r.ok for r in results] == [True, False, True]


def test_phase_mismatch_is_an_error_before_any_linter_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    linter = write_linter(tmp_path / "lint", f"touch {marker}")
    settings = ScriptSettings(phases=("build",), shebang="#!/bin/sh", strict=True)
    with pytest.raises(ScriptError, match="phase 'sourcecheck'"):
        lint_packages([make_package()], linter=linter, settings=settings)
    assert not marker.exists()


def test_find_linter(tmp_path: Path) -> None:
    linter = write_linter(tmp_path / "tools-lint", "exit 0")
    assert find_linter(Path("tools-lint"), tmp_path) == linter
    assert find_linter(linter, Path("/nonexistent")) == linter
    with pytest.raises(ScriptError, match="no script linter configured") as raised:
        find_linter(None, tmp_path)
    assert raised.value.hint is not None
    assert "`script_linter`" in raised.value.hint
    with pytest.raises(ScriptError, match="cannot find the script linter"):
        find_linter(Path("missing"), tmp_path)


def test_run_reports_programs_that_cannot_start(tmp_path: Path) -> None:
    with pytest.raises(ProcessError, match="cannot run"):
        run([tmp_path / "nothing-here"])
    not_executable = tmp_path / "plain"
    not_executable.write_text("echo")
    with pytest.raises(ProcessError, match="cannot run"):
        run([not_executable])


def test_run_kills_programs_that_take_too_long() -> None:
    with pytest.raises(ProcessError, match=r"did not finish within 0\.2 s"):
        run(["sleep", "5"], timeout=0.2)


def test_run_captures_output_and_exit_status() -> None:
    done = run(["sh", "-c", "cat; echo err >&2; exit 4"], stdin=b"in")
    assert (done.returncode, done.stdout, done.stderr, done.ok) == (4, b"in", b"err\n", False)


def test_a_linter_that_cannot_run_is_a_script_error_naming_the_package(tmp_path: Path) -> None:
    not_executable = tmp_path / "lint"
    not_executable.write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(ScriptError, match=r"linting zlib 1\.3\.1: cannot run") as raised:
        lint_packages([make_package()], linter=not_executable, settings=SETTINGS)
    assert raised.value.hint is not None
    assert "executable" in raised.value.hint


def test_commands_start_without_loading_the_template_engine() -> None:
    # pybars3 takes about half a second to import; only rendering may load it.
    code = "import sys, butido_py.cli.main, butido_py.lint; print('pybars' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout == "False\n"


def test_the_script_package_loads_its_names_on_first_use() -> None:
    assert script.check_phases is check_phases
    assert script.render_script is render_script
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = script.nothing
