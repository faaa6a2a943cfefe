"""Uncommitted changes (butido #240): a build reads the commit and refuses only when a file its
plan reads differs in the work tree; read-only commands read the work tree with a one-line note.
Real git, real Docker (the dry run checks the endpoint), SQLite."""

from __future__ import annotations

import subprocess

import pytest

from butido_py.errors import ExitCode
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.docker


def head(space: Workspace) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short=7", "HEAD"],
        cwd=space.root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def first(stderr: str, prefix: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith(prefix))


def test_build_refuses_only_the_files_its_plan_reads(sqlite_workspace: Workspace) -> None:
    space = sqlite_workspace
    space.add_package("solo")
    space.add_package("other")
    space.add_package("leaf")
    space.add_package("top", depends=["leaf =1"])
    space.commit("four packages")

    space.add_package("other", build="{{phase 'build'}}\nmkdir -p /outputs")  # not committed
    (space.root / "notes.txt").write_text("not a package file\n")
    unrelated = space.cli("build", "solo", "1", "-I", "tiny", "--dry-run")
    assert unrelated.code == 0, unrelated.stderr
    assert "note:" not in unrelated.stderr  # the build reads the commit

    space.add_package("leaf", build="{{phase 'build'}}\nmkdir -p /outputs")  # a dependency
    refused = space.cli("build", "top", "1", "-I", "tiny", "--dry-run")
    assert refused.code == ExitCode.REPOSITORY
    error = first(refused.stderr, "error:")
    assert error.startswith("error: 1 file(s) the build reads differ from commit ")
    assert error.endswith("(HEAD): pkgs/leaf/pkg.toml")
    assert "--allow-dirty" in refused.stderr

    allowed = space.cli("build", "top", "1", "-I", "tiny", "--dry-run", "--allow-dirty")
    assert allowed.code == 0, allowed.stderr
    assert first(allowed.stderr, "note:") == (
        f"note: reading the work tree: 2 file(s) differ from HEAD ({head(space)}) (--allow-dirty)"
    )

    for command in (["tree-of", "top"], ["find-pkg", "leaf"], ["dependencies-of", "top"]):
        read = space.cli(*command)
        assert first(read.stderr, "note:") == (
            f"note: reading the work tree: 2 file(s) differ from HEAD ({head(space)}); "
            "build uses the commit"
        ), command


def test_a_new_layer_above_a_planned_package_is_read_by_the_plan(
    sqlite_workspace: Workspace,
) -> None:
    space = sqlite_workspace
    space.add_package("solo")
    space.commit("solo")
    for count, path in enumerate(["pkgs/pkg.toml", "pkgs/solo/a.patch", "b.txt", "c.txt"], 1):
        (space.root / path).write_text(f"# {count}\n")
    refused = space.cli("build", "solo", "1", "-I", "tiny", "--dry-run")
    assert refused.code == ExitCode.REPOSITORY
    assert first(refused.stderr, "error:").endswith("(HEAD): pkgs/pkg.toml")  # not the unused patch
