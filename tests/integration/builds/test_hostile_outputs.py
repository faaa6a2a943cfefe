"""Hostile outputs and /inputs collisions on the real Docker engine, on SQLite and PostgreSQL:
each fails its job cleanly (kind `outputs`, a message naming the entry), the submit and its jobs
agree, and nothing outside or unrecorded stays in staging."""

from __future__ import annotations

import pytest

from butido_py.app.build import BuildRequest
from butido_py.db import artifacts as db_artifacts
from butido_py.db import jobs as db_jobs
from butido_py.db import submits as db_submits
from butido_py.orchestrator.model import BuildResult, JobSummary
from butido_py.states import FailureKind, SubmitState
from butido_py.stores.staging import unrecorded_files
from tests.helpers.mounts import tmpfs
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.docker

PHASE = '{{phase "build"}}\nmkdir -p /outputs\n'


def request(name: str) -> BuildRequest:
    return BuildRequest(name=name, version="1", image="tiny")


def assert_consistent(space: Workspace, result: BuildResult) -> None:
    """The submit/job invariant, and staging holds exactly the recorded artifacts."""
    db = space.database()
    submit = db_submits.find_submit(db, result.submit_uuid)
    assert submit is not None
    jobs, _ = db_jobs.jobs_of_submit(db, submit.id)
    assert submit.state is not SubmitState.RUNNING
    assert all(job.state.finished for job in jobs)
    if any(job.state.ok is False for job in jobs):
        assert submit.state is not SubmitState.SUCCEEDED
    recorded = [a.path for j in jobs for a in db_artifacts.list_artifacts(db, job_uuid=j.uuid)]
    assert unrecorded_files(result.staging_dir, recorded) == []
    staging_root = result.staging_dir.parent
    assert {p.name for p in staging_root.iterdir()} <= {result.staging_dir.name}


def failed_job(space: Workspace, result: BuildResult, package: str) -> JobSummary:
    (job,) = [j for j in result.jobs if j.package == package]
    assert job.state == "failed", job
    record = db_jobs.find_job(space.database(), job.uuid)
    assert record is not None
    assert record.failure_kind is FailureKind.OUTPUTS
    assert job.error is not None
    assert "\n" not in job.error
    return job


def test_a_name_that_is_not_utf8_is_refused(workspace: Workspace) -> None:
    script = PHASE + "echo ok > /outputs/ok.pkg\necho x > \"/outputs/bad$(printf '\\377').pkg\""
    workspace.add_package("hostile", build=script)
    workspace.commit()
    result = workspace.run(request("hostile"))
    job = failed_job(workspace, result, "hostile")
    assert "entry 'outputs/bad\\xff.pkg' has a name that is not valid UTF-8" in (job.error or "")
    assert result.state == "failed"
    assert_consistent(workspace, result)
    assert not result.staging_dir.exists() or list(result.staging_dir.iterdir()) == []


def test_a_file_and_a_directory_of_two_jobs_clash(workspace: Workspace) -> None:
    workspace.add_package("one", build=PHASE + "echo 1 > /outputs/shared\necho 1 > /outputs/one")
    workspace.add_package(
        "two", build=PHASE + "sleep 1\nmkdir /outputs/shared\necho 2 > /outputs/shared/x"
    )
    workspace.add_package("top", depends=["one 1", "two 1"])
    workspace.commit()
    result = workspace.run(request("top"))
    job = failed_job(workspace, result, "two")
    assert "output 'shared/x' lies under the file 'shared'" in (job.error or "")
    states = {j.package: j.state for j in result.jobs}
    assert states == {"one": "succeeded", "two": "failed", "top": "dep_failed"}
    assert_consistent(workspace, result)
    assert sorted(p.name for p in result.staging_dir.iterdir()) == ["one", "shared"]


def test_a_dependency_output_may_not_shadow_a_source(workspace: Workspace) -> None:
    workspace.add_package("dep", build=PHASE + "echo evil > /outputs/src.source")
    workspace.add_package("top", depends=["dep 1"])
    workspace.commit()
    result = workspace.run(request("top"))
    job = failed_job(workspace, result, "top")
    dep = next(j for j in result.jobs if j.package == "dep")
    assert "/inputs/src.source would hold both source 'src' of top 1" in (job.error or "")
    assert f"artifact 'src.source' of dep 1 (job {dep.uuid})" in (job.error or "")
    assert job.container is None  # refused before a container was made
    assert_consistent(workspace, result)


def test_two_dependency_outputs_may_not_collapse(sqlite_workspace: Workspace) -> None:
    space = sqlite_workspace
    for name in ("d1", "d2"):
        space.add_package(
            name, build=PHASE + f"mkdir /outputs/{name}\necho {name} > /outputs/{name}/same.txt"
        )
    space.add_package("top", depends=["d1 1", "d2 1"])
    space.commit()
    result = space.run(request("top"))
    job = failed_job(space, result, "top")
    assert "/inputs/same.txt would hold both artifact " in (job.error or "")
    for name in ("d1", "d2"):
        made = next(j for j in result.jobs if j.package == name)
        assert f"artifact '{name}/same.txt' of {name} 1 (job {made.uuid})" in (job.error or "")
    assert_consistent(space, result)


def test_outputs_beyond_max_output_size_fail_the_job(sqlite_workspace: Workspace) -> None:
    space = sqlite_workspace
    config = space.root / "config.toml"
    config.write_text("max_output_size = 1000\n" + config.read_text())
    space.add_package("big", build=PHASE + "head -c 2000 /dev/zero > /outputs/big.pkg")
    space.commit()
    result = space.run(request("big"))
    job = failed_job(space, result, "big")
    assert "outputs exceed max_output_size (1000 bytes) at entry 'outputs/big.pkg'" in (
        job.error or ""
    )
    assert_consistent(space, result)


def test_a_full_staging_disk_says_staging_is_full(workspace: Workspace) -> None:
    workspace.add_package("small", build=PHASE + "echo fits > /outputs/small.pkg")
    workspace.add_package("huge", build=PHASE + "head -c 3000000 /dev/zero > /outputs/huge.pkg")
    workspace.add_package("top", depends=["small 1", "huge 1"])
    workspace.commit()
    with tmpfs(workspace.data / "staging", "size=1m"):
        result = workspace.run(request("top"))
        job = failed_job(workspace, result, "huge")
        assert "staging is full" in (job.error or "")
        assert "cannot write the log" not in (job.error or "")
        assert_consistent(workspace, result)
        assert [p.name for p in result.staging_dir.iterdir()] == ["small.pkg"]


def test_a_read_only_staging_directory_stops_before_anything_is_recorded(
    sqlite_workspace: Workspace,
) -> None:
    space = sqlite_workspace
    space.add_package("small", build=PHASE + "echo fits > /outputs/small.pkg")
    space.commit()
    with tmpfs(space.data / "staging", "size=1m", "ro"):
        done = space.cli("build", "small", "1", "-I", "tiny")
    assert done.code == 7, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith(("error:", "hint:"))]
    assert lines[0] == (
        f"error: staging directory {space.data / 'staging'} is not writable: Read-only file system"
    )
    assert "Traceback" not in done.stderr
    assert db_submits.list_submits(space.database(), db_submits.SubmitFilter()) == []


def test_a_full_log_directory_says_so_and_fails_the_job_as_outputs(workspace: Workspace) -> None:
    loud = PHASE + "yes 'a line of the build log, again and again' | head -c 1500000\n"
    workspace.add_package("loud", build=loud + "echo ok > /outputs/loud.pkg")
    workspace.commit()
    with tmpfs(workspace.data / "logs", "size=1m"):
        result = workspace.run(BuildRequest(name="loud", version="1", image="tiny", write_log=True))
    job = failed_job(workspace, result, "loud")
    assert job.error is not None
    assert job.error.startswith(
        f"job loud 1: log directory is full: no space left in {workspace.data / 'logs'}"
    ), job.error
    assert "--write-log" in job.error
    assert_consistent(workspace, result)
