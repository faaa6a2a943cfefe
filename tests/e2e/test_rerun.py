"""`butido rerun` end to end: the real command, the real Docker engine, SQLite and PostgreSQL.

The injected fault is outside the repository: freetype's source in the source cache is corrupted
(the build runs with --no-verify, as after an interrupted download), so freetype fails in its
`sourcecheck` phase and fontconfig and cairo are `dep_failed`. The cache is repaired before the
rerun, and the repository gets new commits (and an uncommitted change) that the rerun must not see.
"""

from __future__ import annotations

import json
import uuid

import pytest

from butido_py.db import jobs as db_jobs
from butido_py.db import submits as db_submits
from butido_py.errors import ExitCode
from butido_py.states import SubmitKind
from tests.helpers.json_schema import validated
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.docker

FAILED = {"freetype", "fontconfig", "cairo"}


def states(summary: dict[str, object]) -> dict[str, str]:
    jobs = summary["jobs"]
    assert isinstance(jobs, list)
    return {job["package"]: job["state"] for job in jobs}


def test_rerun_runs_exactly_what_failed_from_the_original_commit(workspace: Workspace) -> None:
    space = workspace
    source = space.data / "sources" / "freetype-2.13.2" / "src.source"
    good = source.read_bytes()
    source.write_bytes(b"corrupted by an interrupted download\n")
    first = space.cli("build", "cairo", "1.18.0", "-I", "tiny", "--no-verify", "--json")
    assert first.code == ExitCode.FAILURE, first.stderr
    original = json.loads(first.stdout)
    assert {p for p, s in states(original).items() if s != "succeeded"} == FAILED
    succeeded = set(states(original)) - FAILED
    assert {"pixman", "expat", "libpng", "zlib", "libc"} <= succeeded
    source.write_bytes(good)  # repaired
    # New commits: at HEAD cairo is another version (the original's is gone) and fontconfig's
    # script differs; an uncommitted change on top. The rerun reads the original's commit.
    cairo = space.root / "libs" / "cairo" / "pkg.toml"
    cairo.write_text(cairo.read_text().replace('version = "1.18.0"', 'version = "1.18.1"'))
    space.commit("cairo 1.18.1")
    fontconfig = space.root / "libs" / "fontconfig" / "pkg.toml"
    fontconfig.write_text(fontconfig.read_text() + '\n[environment]\nBUILD_FLAVOUR = "new"\n')
    space.commit("fontconfig: a flavour")
    expat = space.root / "libs" / "expat" / "pkg.toml"
    expat.write_text(expat.read_text().replace("expat", "expat-renamed", 1))

    done = space.cli("rerun", original["submit"], "--failed", "--json")
    assert done.code == 0, done.stderr + done.stdout
    rerun = validated("rerun", done.stdout)
    assert rerun["original"] == original["submit"]
    assert states(rerun) == {
        **dict.fromkeys(FAILED, "succeeded"),
        **dict.fromkeys(succeeded, "reused"),
    }
    first_jobs = {job["package"]: job["uuid"] for job in original["jobs"]}
    for job in rerun["jobs"]:
        if job["package"] in succeeded:
            assert job["reused_from"] == first_jobs[job["package"]]
            assert job["container"] is None
        else:
            assert job["container"]

    db = space.database()
    before = db_submits.find_submit(db, uuid.UUID(original["submit"]))
    after = db_submits.find_submit(db, uuid.UUID(rerun["submit"]))
    assert before is not None
    assert after is not None
    assert after.kind is SubmitKind.RERUN
    assert after.parent_uuid == before.uuid
    assert (after.commit_hash, after.commit_time) == (before.commit_hash, before.commit_time)
    assert not after.dirty
    jobs, _ = db_jobs.jobs_of_submit(db, after.id)
    fontconfig_job = next(j for j in jobs if j.package_name == "fontconfig")
    detail = db_jobs.find_job_detail(db, fontconfig_job.uuid)
    assert detail is not None
    assert dict(detail.env).get("BUILD_FLAVOUR") != "new"

    shown = space.cli("db", "submit", rerun["submit"])
    assert shown.code == 0, shown.stderr
    assert f"Kind:         rerun of {original['submit']}" in shown.stdout
    total = len(succeeded) + len(FAILED)
    assert f"Jobs:         {total} (reused {len(succeeded)}, succeeded 3)" in shown.stdout
    parent = space.cli("db", "submit", original["submit"])
    assert f"Followed by:  rerun {rerun['submit']} (succeeded)" in parent.stdout
    children = json.loads(space.cli("db", "submit", original["submit"], "--json").stdout)
    assert [c["uuid"] for c in children["children"]] == [rerun["submit"]]
    assert children["children"][0]["verdicts"] is None

    # Everything of the rerun succeeded: nothing to rerun, unless jobs are named.
    nothing = space.cli("rerun", rerun["submit"])
    assert nothing.code == ExitCode.USAGE
    assert "nothing to rerun" in nothing.stderr
    pixman = next(j["uuid"] for j in rerun["jobs"] if j["package"] == "pixman")
    again = space.cli("rerun", rerun["submit"], "--job", pixman, "--json")
    assert again.code == 0, again.stderr
    # pixman and what needs it (cairo) run; the rest is reused, also what the rerun reused.
    assert states(json.loads(again.stdout)) == {
        **dict.fromkeys(set(states(rerun)), "reused"),
        **dict.fromkeys(["pixman", "cairo"], "succeeded"),
    }
    stranger = space.cli("rerun", rerun["submit"], "--job", original["jobs"][0]["uuid"])
    assert stranger.code == ExitCode.USAGE
    assert f"is not a job of submit {rerun['submit']}" in stranger.stderr


def test_rerun_checks_the_sources_like_build_unless_no_verify(sqlite_workspace: Workspace) -> None:
    space = sqlite_workspace
    source = space.data / "sources" / "freetype-2.13.2" / "src.source"
    source.write_bytes(b"corrupted by an interrupted download\n")
    first = space.cli("build", "freetype", "2.13.2", "-I", "tiny", "--no-verify", "--json")
    assert first.code == ExitCode.FAILURE, first.stderr
    original = json.loads(first.stdout)["submit"]
    db = space.database()
    submits_before = len(db_submits.list_submits(db, db_submits.SubmitFilter()))

    refused = space.cli("rerun", original)  # the cache is still broken: refused before running
    assert refused.code not in (0, ExitCode.FAILURE), refused.stderr
    assert "hash mismatch" in refused.stderr
    assert "freetype-2.13.2" in refused.stderr
    assert len(db_submits.list_submits(db, db_submits.SubmitFilter())) == submits_before

    again = space.cli("rerun", original, "--no-verify", "--json")
    assert again.code == ExitCode.FAILURE, again.stderr  # it ran, and failed the same way
    assert states(json.loads(again.stdout))["freetype"] == "failed"


def test_a_job_whose_dependency_runs_again_is_not_reused(sqlite_workspace: Workspace) -> None:
    """c fails (its cached source is broken); before the rerun, a's staged artifact is deleted.
    The rerun runs c, and a (its artifacts are gone); b, which needs a, must run as well rather
    than reuse outputs made from the old a."""
    space = sqlite_workspace
    space.add_package("a")
    space.add_package("b", depends=["a 1"])
    space.add_package(
        "c",
        build='{{phase "build"}}\nmkdir -p /outputs\n'
        'grep -q "source of c" /inputs/src.source\necho "package c 1" > /outputs/c-1.pkg',
    )
    space.add_package("top", depends=["b 1", "c 1"])
    space.commit("a, b, c, top")
    source = space.data / "sources" / "c-1" / "src.source"
    good = source.read_bytes()
    source.write_bytes(b"broken\n")
    first = space.cli("build", "top", "1", "-I", "tiny", "--no-verify", "--json")
    assert first.code == ExitCode.FAILURE, first.stderr
    original = json.loads(first.stdout)
    assert states(original) == {"a": "succeeded", "b": "succeeded", "c": "failed",
                                "top": "dep_failed"}  # fmt: skip
    source.write_bytes(good)
    staged = space.data / "staging" / original["submit"]
    (a_artifact,) = [p for p in staged.iterdir() if p.name.startswith("a")]
    a_artifact.unlink()

    done = space.cli("rerun", original["submit"], "--json")
    assert done.code == 0, done.stderr + done.stdout
    assert states(json.loads(done.stdout)) == dict.fromkeys(("a", "b", "c", "top"), "succeeded")
    assert "a job it needs ran again, so it runs too" in done.stderr
