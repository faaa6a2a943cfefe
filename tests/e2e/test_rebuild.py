"""`butido rebuild` end to end: the real command, the real Docker engine, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest
from sqlalchemy import update

from butido_py.db import artifacts as db_artifacts
from butido_py.db import jobs as db_jobs
from butido_py.db import submits as db_submits
from butido_py.db.database import Database
from butido_py.db.models import JOBS
from butido_py.db.records import SubmitRecord
from butido_py.errors import ExitCode
from butido_py.states import RebuildVerdict, SubmitKind, SubmitState
from tests.helpers.json_schema import validated
from tests.helpers.workspace import Cli, Workspace, built, with_debian_image

pytestmark = pytest.mark.docker


def errors(done: Cli) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("error:")]


def test_rebuild_of_the_top_package_on_debian_is_identical(workspace: Workspace) -> None:
    space = with_debian_image(workspace)
    original = built(space, "desktop", "1.0", "-I", "debian", "-E", "WITH_DOCS=yes")
    # The work tree may hold anything: the rebuild reads the recorded commit.
    libc = space.root / "base" / "libc" / "pkg.toml"
    libc.write_text(libc.read_text().replace('version = "2.38"', 'version = "9.99"'))

    done = space.cli("rebuild", original, "--json")
    assert done.code == 0, done.stderr + done.stdout
    report = validated("rebuild", done.stdout)
    assert report["state"] == "succeeded"
    assert report["original"] == original
    assert {job["state"] for job in report["jobs"]} == {"succeeded"}  # reuse is off
    packages = {job["package"] for job in report["jobs"]}
    assert {"desktop", "hello-c", "debian-compat", "docs-extra", "libc"} <= packages
    verdicts = report["verdicts"]
    assert len(verdicts) == len(report["jobs"])  # one artifact per job
    assert {v["verdict"] for v in verdicts} == {"identical"}
    assert report["counts"] == {"identical": len(verdicts)}
    assert any(v["path"] == "hello-c-1.0.tar.gz" for v in verdicts)

    db = space.database()
    rebuild = db_submits.find_submit(db, uuid.UUID(report["submit"]))
    assert rebuild is not None
    assert rebuild.kind is SubmitKind.REBUILD
    assert str(rebuild.parent_uuid) == original
    assert rebuild.state is SubmitState.SUCCEEDED
    first = db_submits.find_submit(db, uuid.UUID(original))
    assert first is not None
    assert (rebuild.commit_hash, rebuild.commit_time) == (first.commit_hash, first.commit_time)
    assert first.commit_time is not None
    assert db_submits.submit_env(db, rebuild.id) == (("WITH_DOCS", "yes"),)
    results = db_artifacts.rebuild_results(db, rebuild.uuid)
    assert len(results) == len(verdicts)
    assert all(r.original_artifact_id and r.rebuilt_artifact_id for r in results)
    assert all(r.verdict is RebuildVerdict.IDENTICAL and r.diff_summary is None for r in results)
    rebuilt_jobs, _ = db_jobs.jobs_of_submit(db, rebuild.id)
    original_jobs, _ = db_jobs.jobs_of_submit(db, first.id)
    epochs = {job.package_name: epoch_of(db, job.uuid) for job in original_jobs}
    committed = int(first.commit_time.timestamp())
    assert all(int(epoch) <= committed for epoch in epochs.values())
    for job in rebuilt_jobs:  # SOURCE_DATE_EPOCH as recorded by the original's job
        assert epoch_of(db, job.uuid) == epochs[job.package_name]

    shown = space.cli("db", "submit", report["submit"])
    assert shown.code == 0, shown.stderr
    assert f"rebuild of {original}" in shown.stdout
    assert f"Verdicts against {original}:" in shown.stdout
    assert f"Verdicts: {len(verdicts)} identical" in shown.stdout
    parent = space.cli("db", "submit", original, "--json")
    (child,) = json.loads(parent.stdout)["children"]
    assert child == {
        "uuid": report["submit"],
        "kind": "rebuild",
        "state": "succeeded",
        "submit_time": child["submit_time"],
        "verdicts": {"identical": len(verdicts)},
    }


def epoch_of(db: Database, job: uuid.UUID) -> str:
    detail = db_jobs.find_job_detail(db, job)
    assert detail is not None
    return dict(detail.env)["SOURCE_DATE_EPOCH"]


def test_rebuild_of_the_clock_differs(sqlite_workspace: Workspace) -> None:
    space = sqlite_workspace
    original = built(space, "clock", "1.0", "-I", "tiny")
    done = space.cli("rebuild", original)
    assert done.code == ExitCode.FAILURE, done.stderr
    assert "clock    1.0      clock-1.0.pkg  differs" in done.stdout
    assert "Verdicts: 1 differs" in done.stdout
    db = space.database()
    (rebuild,) = db_submits.child_submits(db, must_find(space, original).id)
    assert rebuild.state is SubmitState.SUCCEEDED  # the build worked; the artifact differs
    (result,) = db_artifacts.rebuild_results(db, rebuild.uuid)
    assert result.verdict is RebuildVerdict.DIFFERS
    assert result.original_artifact_id != result.rebuilt_artifact_id
    if shutil.which("diffoscope") is None:  # scripts/services --test-tools installs it
        assert result.diff_summary is None
        assert "(install diffoscope to see what differs)" in done.stdout
    else:
        summary = result.diff_summary or ""
        assert "-built-at " in summary
        assert "+built-at " in summary
        assert "diffoscope: clock 1.0 clock-1.0.pkg" in done.stdout
        assert "+built-at " in done.stdout
    shown = space.cli("db", "submit", original)
    assert f"Followed by:  rebuild {rebuild.uuid} (succeeded): 1 differs" in shown.stdout
    shown_rebuild = space.cli("db", "submit", str(rebuild.uuid), "--json")
    (verdict,) = json.loads(shown_rebuild.stdout)["verdicts"]
    assert (verdict["verdict"], verdict["diff_summary"]) == ("differs", result.diff_summary)


def must_find(space: Workspace, submit: str) -> SubmitRecord:
    found = db_submits.find_submit(space.database(), uuid.UUID(submit))
    assert found is not None
    return found


def test_another_image_digest_is_refused_unless_allowed(sqlite_workspace: Workspace) -> None:
    space = sqlite_workspace
    original = built(space, "hello", "2.12.1", "-I", "tiny")
    with space.database().begin() as connection:  # as if the image had been rebuilt since
        connection.execute(update(JOBS).values(image_digest="sha256:" + "0" * 64))
    refused = space.cli("rebuild", original)
    assert refused.code == ExitCode.ENDPOINT
    (error,) = errors(refused)
    assert error.startswith("error: endpoint 'primary': image butido-tiny:latest is sha256:")
    assert error.endswith(f"but submit {original} was built with sha256:{'0' * 64}")
    assert "--allow-image-change" in refused.stderr
    allowed = space.cli("rebuild", original, "--allow-image-change")
    assert allowed.code == 0, allowed.stderr
    assert "warning: endpoint 'primary'" in allowed.stderr


def test_a_dirty_or_unknown_submit_is_refused(sqlite_workspace: Workspace) -> None:
    space = sqlite_workspace
    space.add_package("solo")
    space.commit()
    space.add_package("solo", build='{{phase "build"}}\nmkdir -p /outputs\necho x > /outputs/x')
    dirty = built(space, "solo", "1", "-I", "tiny", "--allow-dirty")
    for command in ("rebuild", "rerun"):
        done = space.cli(command, dirty)
        assert done.code == ExitCode.REPOSITORY
        commit = must_find(space, dirty).commit_hash[:12]
        expected = (
            f"error: submit {dirty} was built from a dirty work tree (--allow-dirty): its "
            f"package files are not those of commit {commit}"
        )
        assert errors(done) == [expected]
    unknown = space.cli("rebuild", "5b000000-0000-4000-8000-000000000099")
    assert unknown.code == ExitCode.DATABASE
    assert errors(unknown) == [
        "error: no submit 5b000000-0000-4000-8000-000000000099 in the database"
    ]


def test_a_rebuild_runs_the_recorded_scripts_after_a_configuration_change(
    sqlite_workspace: Workspace,
) -> None:
    space = sqlite_workspace
    original = built(space, "hello", "2.12.1", "-I", "tiny")
    config = space.root / "config.toml"
    config.write_text(
        config.read_text().replace('shebang = "#!/bin/bash"', 'shebang = "#!/bin/sh"')
    )
    space.commit("another shebang")

    done = space.cli("rebuild", original)
    assert done.code == 0, done.stderr + done.stdout
    assert (
        "warning: the scripts or environments of hello 2.12.1 differ from what submit "
        f"{original} recorded (the configuration or the SOURCE_DATE_EPOCH policy changed since); "
        "the recorded ones run"
    ) in done.stderr
    db = space.database()
    (rebuild,) = db_submits.child_submits(db, must_find(space, original).id)
    scripts = [
        db_jobs.recorded_inputs_of_submit(db, must_find(space, submit).id)
        for submit in (original, str(rebuild.uuid))
    ]
    (before,), (after,) = (list(s.values()) for s in scripts)
    assert after == before
    assert before[0].startswith("#!/bin/bash\n")
