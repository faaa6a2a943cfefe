"""Reuse across commits on the example repository (zlib 1.3.1: filesystem → libc → make → zlib):
per-package SOURCE_DATE_EPOCH, early cutoff, `--dry-run --explain` and an older submit that still
rebuilds identical. The real command, the real Docker engine, SQLite."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from butido_py.db import submits as db_submits
from tests.helpers.json_schema import validated
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.docker

ZLIB = ("build", "zlib", "1.3.1", "-I", "tiny", "--json", "--explain")
PACKAGES = ("filesystem", "libc", "make", "zlib")
FILESYSTEM = "base/filesystem/pkg.toml"
# A depcheck phase of its own: another script, the same artifact (filesystem needs nothing).
SAME_OUTPUT = """
[phases]
depcheck.script = '''
    {{phase "depcheck"}}
    echo "filesystem needs no other package"
    {{progress 75}}
'''
"""


def run(space: Workspace, *extra: str) -> dict[str, Any]:
    done = space.cli(*ZLIB, *extra)
    assert done.code == 0, done.stderr + done.stdout
    data: dict[str, Any] = validated("build", done.stdout)
    return data


def ran(summary: dict[str, Any]) -> dict[str, str]:
    return {job["package"]: job["state"] for job in summary["jobs"]}


def why(summary: dict[str, Any], key: str = "explain") -> dict[str, list[str]]:
    """Package → the components of its key that changed, sorted."""
    return {
        entry["package"]: sorted(change["component"] for change in entry["changes"])
        for entry in summary[key]
    }


def decisions(space: Workspace) -> dict[str, Any]:
    """`--dry-run --explain --json`, checking that nothing was written."""
    before = _recorded(space)
    plan = run(space, "--dry-run")
    assert _recorded(space) == before
    assert plan["dry_run"] is True
    return plan


def _recorded(space: Workspace) -> tuple[int, list[Path]]:
    submits = db_submits.list_submits(space.database(), db_submits.SubmitFilter())
    return len(submits), sorted((space.data / "staging").rglob("*"))


def change(space: Workspace, path: str, text: str, message: str) -> None:
    target = space.root / path
    target.write_text(target.read_text() + text)
    space.commit(message)


def test_only_what_a_commit_changed_runs_again(sqlite_workspace: Workspace) -> None:
    space = sqlite_workspace
    config = space.root / "config.toml"
    config.write_text(config.read_text().replace('git_commit_hash = "GIT_COMMIT_HASH"\n', ""))
    space.commit("keep the commit out of the jobs' environment")
    first = run(space)
    assert set(ran(first).values()) == {"succeeded"}
    assert all(components == ["new"] for components in why(first).values())

    # 1. A commit that touches no package file: every job reused.
    change(space, "README.md", "\nmore words\n", "README only")
    plan = decisions(space)
    assert {job["decision"] for job in plan["jobs"]} == {"reuse"}
    assert set(ran(run(space)).values()) == {"reused"}

    # 2. A script-only change to the leaf whose artifact stays the same: only the leaf runs.
    change(space, FILESYSTEM, SAME_OUTPUT, "filesystem: another depcheck, same artifact")
    plan = decisions(space)
    assert why(plan, "jobs")["filesystem"] == ["epoch", "script"]
    assert {job["package"]: job["decision"] for job in plan["jobs"]} == {
        "filesystem": "run",
        "libc": "run-if-inputs-change",
        "make": "run-if-inputs-change",
        "zlib": "run-if-inputs-change",
    }
    second = run(space)
    assert ran(second) == {
        "filesystem": "succeeded",
        "libc": "reused",
        "make": "reused",
        "zlib": "reused",
    }

    # 3. A change to the leaf's artifact: it and everything that needs it run.
    flavour = '\n[environment]\nBUILD_FLAVOUR = "strict"\n'
    change(space, FILESYSTEM, flavour, "filesystem: strict flavour")
    assert why(decisions(space), "jobs")["filesystem"] == ["env", "epoch"]
    third = run(space)
    assert set(ran(third).values()) == {"succeeded"}
    reasons = why(third)
    assert reasons["filesystem"] == ["env", "epoch"]
    assert reasons["libc"] == ["input"]
    libc = next(e for e in third["explain"] if e["package"] == "libc")
    assert "filesystem 1.0: filesystem-1.0.pkg differs" in libc["changes"][0]["detail"]

    # 4. The top-level pkg.toml is a layer of every package: everything runs.
    change(space, "pkg.toml", "\n# every package reads this file\n", "root layer")
    plan = decisions(space)
    assert {job["decision"] for job in plan["jobs"]} == {"run"}
    assert all("epoch" in components for components in why(plan, "jobs").values())

    # `db job --explain` tells the same for past jobs.
    shown = space.cli("db", "job", next(j["uuid"] for j in third["jobs"] if j["package"] == "libc"),
                      "--explain", "--json")  # fmt: skip
    assert shown.code == 0, shown.stderr
    assert json.loads(shown.stdout)["explain"]["changes"][0]["component"] == "input"

    # An older submit still rebuilds identical from its own commit and recorded epochs.
    rebuilt = space.cli("rebuild", first["submit"], "--json")
    assert rebuilt.code == 0, rebuilt.stderr + rebuilt.stdout
    report = json.loads(rebuilt.stdout)
    assert {v["verdict"] for v in report["verdicts"]} == {"identical"}
    assert uuid.UUID(report["original"]) == uuid.UUID(first["submit"])
