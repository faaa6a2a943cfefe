"""`butido lint` on a real git repository with a real linter script."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.e2e.conftest import Runner
from tests.helpers.gitrepo import init_repo

CONFIG = """\
compatibility = 1
available_phases = ["check", "build"]
"""

ROOT_LAYER = """\
version_is_semver = false
patches = []

[dependencies]
build = []
runtime = []

[sources.src]
url = "https://example.com/src.tar.gz"
hash.type = "sha256"
hash.hash = "0000000000000000000000000000000000000000000000000000000000000000"

[phases]
check.script = '''
    {{phase "check"}}
    echo "checking {{this.name}}"
'''
build.script = '''
    {{phase "build"}}
    echo "building {{this.name}} {{this.version}}"
    {{state "OK"}}
'''
"""

# Rejects every script that mentions "forbidden", like a shellcheck wrapper would reject bad code.
LINTER = """\
#!/bin/sh
script=$(cat)
case "$script" in
  *forbidden*) echo "SC9999: forbidden word in the script"; echo "more detail" >&2; exit 1 ;;
esac
exit 0
"""


def leaf(name: str, version: str, extra: str = "") -> str:
    return f'name = "{name}"\nversion = "{version}"\n{extra}'


@pytest.fixture
def lint_repo(tmp_path: Path) -> Path:
    files = {
        "config.toml": CONFIG + 'script_linter = "tools/lint.sh"\n',
        "pkg.toml": ROOT_LAYER,
        "a/pkg.toml": leaf("alpha", "1.0"),
        "b/pkg.toml": leaf(
            "beta",
            "2.0",
            "[phases.build]\nscript = '''\n    echo forbidden\n    {{state \"OK\"}}\n'''\n",
        ),
        "c/pkg.toml": leaf("gamma", "3.0"),
        "tools/lint.sh": LINTER,
    }
    root = init_repo(tmp_path / "lintrepo", files)
    linter = root / "tools" / "lint.sh"
    linter.chmod(linter.stat().st_mode | stat.S_IXUSR)
    return root


def test_lint_reports_the_rejected_package_and_the_linter_output(
    butido: Runner, lint_repo: Path
) -> None:
    result = butido("lint", cwd=lint_repo)
    assert result.code == 9
    assert "lint failed: beta 2.0 (exit status 1)" in result.stdout
    assert "SC9999: forbidden word in the script" in result.stdout
    assert "more detail" in result.stdout
    assert "alpha" not in result.stdout
    assert "gamma" not in result.stdout
    assert "linting failed for 1 of 3 packages: beta 2.0" in result.stderr
    assert "Traceback" not in result.stderr


def test_lint_of_accepted_packages_succeeds(butido: Runner, lint_repo: Path) -> None:
    result = butido("lint", "alpha", cwd=lint_repo)
    assert result.code == 0, result.stderr
    assert "1 package scripts linted, no problems found" in result.stdout


def test_lint_selects_by_name_and_constraint(butido: Runner, lint_repo: Path) -> None:
    assert butido("lint", "beta", "=2.0", cwd=lint_repo).code == 9
    missing = butido("lint", "beta", "=9", cwd=lint_repo)
    assert missing.code == 4
    assert "error: package beta =9 not found" in missing.stderr
    assert "hint: versions of beta: 2.0" in missing.stderr


def test_lint_without_a_configured_linter_says_so(butido: Runner, tmp_path: Path) -> None:
    root = init_repo(
        tmp_path / "nolinter",
        {"config.toml": CONFIG, "pkg.toml": ROOT_LAYER, "a/pkg.toml": leaf("alpha", "1.0")},
    )
    result = butido("lint", cwd=root)
    assert result.code == 9
    assert "error: no script linter configured" in result.stderr
    assert "`script_linter`" in result.stderr
    assert "Traceback" not in result.stderr


def test_lint_rejects_a_package_with_an_unconfigured_phase(butido: Runner, lint_repo: Path) -> None:
    (lint_repo / "c" / "pkg.toml").write_text(
        leaf("gamma", "3.0", "[phases.deploy]\nscript = 'echo deploy'\n")
    )
    result = butido("lint", "gamma", "--allow-dirty", cwd=lint_repo)
    assert result.code == 9
    assert "gamma 3.0 (c/pkg.toml): phase 'deploy' is not configured" in result.stderr
    assert "available_phases" in result.stderr
