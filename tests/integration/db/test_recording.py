"""Recording a build plan and moving its jobs through their states, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

import pytest

from butido_py.db import artifacts, jobs, logs, releases, submits
from butido_py.db.database import Database
from butido_py.db.models import JOB_ENVS, JOBS, SUBMITS
from butido_py.db.records import ArtifactInput, JobEdge, PlannedJob, PlannedSubmit
from butido_py.errors import DatabaseError
from butido_py.states import (
    DependencyKind,
    FailureKind,
    JobState,
    RebuildVerdict,
    SubmitKind,
    SubmitState,
    TransitionError,
)
from tests.helpers.databases import count_rows
from tests.helpers.seed import seed

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def later(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def planned_submit(**changes: object) -> PlannedSubmit:
    values: dict[str, object] = {
        "uuid": uuid.uuid4(),
        "submit_time": T0,
        "image": "debian:12",
        "package_name": "app",
        "package_version": "1",
        "commit_hash": "e" * 40,
        "env": (("A", "1"),),
        "commit_time": T0 - timedelta(days=1),
        "triggered_by": "ci@runner",
    }
    values.update(changes)
    return PlannedSubmit(**values)  # type: ignore[arg-type]


def planned_job(name: str, *needs: uuid.UUID, env: tuple[tuple[str, str], ...] = ()) -> PlannedJob:
    return PlannedJob(
        uuid=uuid.uuid4(),
        package_name=name,
        package_version="1",
        image="debian:12",
        script_text=f"#!/bin/sh\necho {name}\n",
        env=env,
        depends_on=tuple(JobEdge(n, DependencyKind.BUILD) for n in needs),
        job_key="k" * 64,
    )


def test_a_plan_is_written_in_one_go(db: Database) -> None:
    lib = planned_job("lib", env=(("A", "1"), ("A", "1"), ("B", "2")))  # duplicate: one row
    app = planned_job("app", lib.uuid, env=(("A", "1"),))
    plan = submits.record_plan(db, planned_submit(), [app, lib])
    assert set(plan.job_ids) == {app.uuid, lib.uuid}
    submit = plan.submit
    assert (submit.state, submit.kind, submit.dirty, submit.parent_uuid) == (
        SubmitState.RUNNING, SubmitKind.BUILD, False, None,
    )  # fmt: skip
    assert submit.submit_time == T0
    assert submit.submit_time.tzinfo is UTC
    assert submits.submit_env(db, submit.id) == (("A", "1"),)
    found, edges = jobs.jobs_of_submit(db, submit.id)
    assert [(j.package_name, j.state) for j in found] == [
        ("app", JobState.PLANNED), ("lib", JobState.PLANNED),
    ]  # fmt: skip
    assert [(e.job_uuid, e.depends_on_uuid, e.kind) for e in edges] == [
        (app.uuid, lib.uuid, DependencyKind.BUILD)
    ]
    assert count_rows(db, JOB_ENVS) == 3
    detail = jobs.find_job_detail(db, lib.uuid)
    assert detail is not None
    assert detail.env == (("A", "1"), ("B", "2"))
    assert detail.script_text == "#!/bin/sh\necho lib\n"
    assert logs.read_log_bytes(db, lib.uuid) == b""
    assert detail.job.root_package_name == "app"


def test_a_bad_plan_writes_nothing(db: Database) -> None:
    orphan = planned_job("app", uuid.uuid4())
    with pytest.raises(DatabaseError, match="not part of the plan"):
        submits.record_plan(db, planned_submit(), [orphan])
    twice = planned_job("lib")
    with pytest.raises(DatabaseError, match="same job uuid twice"):
        submits.record_plan(db, planned_submit(), [twice, twice])
    with pytest.raises(DatabaseError, match=r"parent submit .* does not exist"):
        submits.record_plan(db, planned_submit(parent_submit_uuid=uuid.uuid4()), [])
    assert (count_rows(db, SUBMITS), count_rows(db, JOBS)) == (0, 0)


def test_a_failing_insert_rolls_the_whole_plan_back(db: Database) -> None:
    first = planned_job("lib")
    submits.record_plan(db, planned_submit(), [first])
    clash = planned_job("app")
    # A job uuid that exists already fails the jobs insert, after the submit row was written.
    again = dataclasses.replace(clash, uuid=first.uuid)
    with pytest.raises(DatabaseError, match=r"(?i)unique|duplicate"):
        submits.record_plan(db, planned_submit(), [again])
    assert (count_rows(db, SUBMITS), count_rows(db, JOBS)) == (1, 1)


def test_jobs_move_through_their_states_with_timestamps(db: Database) -> None:
    base, lib, app, doc = (planned_job(n) for n in ("base", "lib", "app", "doc"))
    plan = submits.record_plan(db, planned_submit(), [base, lib, app, doc])
    jobs.mark_queued(db, lib.uuid, at=later(1))
    jobs.mark_running(db, lib.uuid, endpoint="ep1", at=later(2), image_digest="sha256:" + "0" * 64)
    jobs.set_container(db, lib.uuid, "c" * 64)
    logs.append_chunk(db, lib.uuid, b"line 1\n")
    logs.append_chunk(db, lib.uuid, b"line 2\n")
    assert logs.read_log_bytes(db, lib.uuid) == b"line 1\nline 2\n"
    jobs.mark_succeeded(db, lib.uuid, at=later(10))
    jobs.mark_reused(db, base.uuid, reused_from=lib.uuid, at=later(3))
    jobs.mark_queued(db, app.uuid, at=later(11))
    jobs.mark_running(db, app.uuid, endpoint="ep2", at=later(12))
    jobs.mark_failed(
        db, app.uuid, at=later(20), failure_kind=FailureKind.SCRIPT, exit_code=1, log_text="x"
    )
    jobs.mark_dep_failed(db, doc.uuid, at=later(20))
    done = {j.package_name: j for j in jobs.jobs_of_submit(db, plan.submit.id)[0]}
    assert done["lib"].state is JobState.SUCCEEDED
    assert (done["lib"].queued_at, done["lib"].started_at, done["lib"].finished_at) == (
        later(1), later(2), later(10),
    )  # fmt: skip
    assert (done["lib"].endpoint, done["lib"].container_hash) == ("ep1", "c" * 64)
    assert done["lib"].image_digest == "sha256:" + "0" * 64
    assert done["lib"].exit_code == 0
    assert (done["base"].state, done["base"].reused_from_uuid) == (JobState.REUSED, lib.uuid)
    assert (done["app"].state, done["app"].failure_kind, done["app"].exit_code) == (
        JobState.FAILED, FailureKind.SCRIPT, 1,
    )  # fmt: skip
    assert done["doc"].state is JobState.DEP_FAILED
    assert logs.read_log_bytes(db, lib.uuid) == b"line 1\nline 2\n"  # kept on success
    assert logs.read_log_bytes(db, app.uuid) == b"x"  # a whole log given at the end
    submits.finish_submit(db, plan.submit.uuid, SubmitState.FAILED, at=later(21))
    finished = submits.find_submit(db, plan.submit.uuid)
    assert finished is not None
    assert (finished.state, finished.finished_at) == (SubmitState.FAILED, later(21))


def test_a_finished_job_cannot_run_again(db: Database) -> None:
    job = planned_job("lib")
    submits.record_plan(db, planned_submit(), [job])
    with pytest.raises(TransitionError, match="from planned to running"):
        jobs.mark_running(db, job.uuid, endpoint="ep", at=later(1))
    jobs.mark_queued(db, job.uuid, at=later(1))
    jobs.mark_running(db, job.uuid, endpoint="ep", at=later(2))
    jobs.mark_succeeded(db, job.uuid, at=later(3))
    with pytest.raises(TransitionError, match="from succeeded to running"):
        jobs.mark_running(db, job.uuid, endpoint="ep", at=later(4))
    with pytest.raises(TransitionError, match="from succeeded to canceled"):
        jobs.mark_canceled(db, job.uuid, at=later(4))
    found = jobs.find_job(db, job.uuid)
    assert found is not None
    assert (found.state, found.started_at) == (JobState.SUCCEEDED, later(2))
    with pytest.raises(DatabaseError, match="does not exist"):
        jobs.mark_queued(db, uuid.uuid4(), at=later(5))


def test_unfinished_jobs_can_be_canceled_or_lost(db: Database) -> None:
    planned, queued, running = (planned_job(n) for n in ("a", "b", "c"))
    plan = submits.record_plan(db, planned_submit(), [planned, queued, running])
    jobs.mark_queued(db, queued.uuid, at=later(1))
    jobs.mark_queued(db, running.uuid, at=later(1))
    jobs.mark_running(db, running.uuid, endpoint="ep", at=later(2))
    jobs.mark_canceled(db, planned.uuid, at=later(3))
    jobs.mark_lost(db, queued.uuid, at=later(3))
    jobs.mark_canceled(db, running.uuid, at=later(3))
    states = {
        j.package_name: (j.state, j.failure_kind)
        for j in jobs.jobs_of_submit(db, plan.submit.id)[0]
    }
    assert states == {
        "a": (JobState.CANCELED, FailureKind.CANCELED),
        "b": (JobState.LOST, FailureKind.LOST),
        "c": (JobState.CANCELED, FailureKind.CANCELED),
    }
    with pytest.raises(TransitionError, match="from running to running"):
        submits.finish_submit(db, plan.submit.uuid, SubmitState.RUNNING, at=later(4))
    unchanged = submits.find_submit(db, plan.submit.uuid)
    assert unchanged is not None
    assert (unchanged.state, unchanged.finished_at) == (SubmitState.RUNNING, None)
    submits.finish_submit(db, plan.submit.uuid, SubmitState.CANCELED, at=later(4))
    with pytest.raises(TransitionError, match="from canceled to succeeded"):
        submits.finish_submit(db, plan.submit.uuid, SubmitState.SUCCEEDED, at=later(5))


def test_artifacts_inputs_releases_and_rebuild_results(db: Database) -> None:
    lib = planned_job("lib")
    app = planned_job("app", lib.uuid)
    plan = submits.record_plan(db, planned_submit(), [app, lib])
    made = artifacts.record_artifacts(
        db,
        lib.uuid,
        [ArtifactInput("lib.tar", "1" * 64, 10), ArtifactInput("d/lib.so", "2" * 64, 5)],
    )
    assert [(a.path, a.sha256, a.size, a.job_uuid) for a in made] == [
        ("lib.tar", "1" * 64, 10, lib.uuid), ("d/lib.so", "2" * 64, 5, lib.uuid),
    ]  # fmt: skip
    artifacts.record_job_inputs(db, app.uuid, [a.id for a in made])
    assert [a.path for a in artifacts.input_artifacts(db, app.uuid)] == ["lib.tar", "d/lib.so"]
    release = releases.record_release(db, made[0].id, "stable", at=later(60))
    assert (release.store, release.package_name, release.artifact_path) == (
        "stable", "lib", "lib.tar",
    )  # fmt: skip
    listed = artifacts.list_artifacts(db, job_uuid=lib.uuid)
    assert [(a.path, a.released_at) for a in listed] == [("lib.tar", later(60)), ("d/lib.so", None)]
    assert [a.path for a in artifacts.list_artifacts(db, limit=1)] == ["d/lib.so"]
    found = releases.list_releases(db, releases.ReleaseFilter(store="stable"))
    assert [r.id for r in found] == [release.id]
    assert releases.list_releases(db, releases.ReleaseFilter(older_than=later(60))) == []
    verdict = artifacts.record_rebuild_result(
        db, plan.submit.uuid, package=("lib", "1"), path="lib.tar",
        original_artifact_id=made[0].id, rebuilt_artifact_id=None, verdict=RebuildVerdict.MISSING,
    )  # fmt: skip
    assert (verdict.verdict, verdict.path) == (RebuildVerdict.MISSING, "lib.tar")
    with pytest.raises(DatabaseError, match="does not exist"):
        artifacts.record_artifacts(db, uuid.uuid4(), [])
    with pytest.raises(DatabaseError, match="does not exist"):
        releases.record_release(db, 999_999, "stable", at=later(61))


def test_lineage_and_listing_filters(db: Database) -> None:
    first = submits.record_plan(db, planned_submit(), [planned_job("lib")])
    rerun = submits.record_plan(
        db,
        planned_submit(
            submit_time=later(100), kind=SubmitKind.RERUN, parent_submit_uuid=first.submit.uuid,
            dirty=True, package_name="tool",
        ),
        [planned_job("tool")],
    )  # fmt: skip
    assert rerun.submit.parent_uuid == first.submit.uuid
    assert (rerun.submit.kind, rerun.submit.dirty) == (SubmitKind.RERUN, True)
    listed = submits.list_submits(db, submits.SubmitFilter())
    assert [s.uuid for s in listed] == [first.submit.uuid, rerun.submit.uuid]  # oldest first
    newest = submits.list_submits(db, submits.SubmitFilter(limit=1))
    assert [s.uuid for s in newest] == [rerun.submit.uuid]
    with_lib = submits.list_submits(db, submits.SubmitFilter(with_package="lib"))
    assert [s.uuid for s in with_lib] == [first.submit.uuid]
    for_tool = submits.list_submits(db, submits.SubmitFilter(for_package="tool"))
    assert [s.uuid for s in for_tool] == [rerun.submit.uuid]
    old = jobs.list_jobs(db, jobs.JobFilter(older_than=later(50)))
    assert [j.package_name for j in old] == ["lib"]
    planned = jobs.list_jobs(db, jobs.JobFilter(states=(JobState.PLANNED,), package="tool"))
    assert [j.root_package_name for j in planned] == ["tool"]


@pytest.mark.parametrize("state", [SubmitState.CANCELED, SubmitState.LOST])
def test_abandoning_a_submit_ends_its_unfinished_jobs(db: Database, state: SubmitState) -> None:
    done, queued, planned = (planned_job(n) for n in ("done", "queued", "planned"))
    plan = submits.record_plan(db, planned_submit(), [done, queued, planned])
    jobs.mark_queued(db, done.uuid, at=later(1))
    jobs.mark_running(db, done.uuid, endpoint="ep", at=later(2))
    jobs.mark_succeeded(db, done.uuid, at=later(3))
    jobs.mark_queued(db, queued.uuid, at=later(3))
    assert jobs.abandon_submit(db, plan.submit.uuid, state, at=later(4)) == 2
    states = {j.package_name: j.state for j in jobs.jobs_of_submit(db, plan.submit.id)[0]}
    assert states == {"done": JobState.SUCCEEDED, "queued": state, "planned": state}
    submit = submits.find_submit(db, plan.submit.uuid)
    assert submit is not None
    assert (submit.state, submit.finished_at) == (state, later(4))
    with pytest.raises(TransitionError):
        jobs.abandon_submit(db, plan.submit.uuid, SubmitState.LOST, at=later(5))
    with pytest.raises(DatabaseError, match="canceled or lost"):
        jobs.abandon_submit(db, plan.submit.uuid, SubmitState.FAILED, at=later(5))


def test_reusable_jobs_are_found_by_job_key(db: Database) -> None:
    old, new, failed = planned_job("a"), planned_job("a"), planned_job("a")
    for job, result in ((old, "ok"), (new, "ok"), (failed, "bad")):
        submits.record_plan(db, planned_submit(), [job])
        jobs.mark_queued(db, job.uuid, at=later(1))
        jobs.mark_running(db, job.uuid, endpoint="ep", at=later(2))
        if result == "ok":
            jobs.mark_succeeded(db, job.uuid, at=later(10 if job is old else 20))
        else:
            jobs.mark_failed(db, job.uuid, at=later(30), failure_kind=FailureKind.OUTPUTS)
    found = jobs.find_reusable_jobs(db, "k" * 64)
    assert [j.uuid for j in found] == [new.uuid, old.uuid]
    assert jobs.find_reusable_jobs(db, "x" * 64) == []


def test_concurrent_plans_sharing_new_packages_do_not_deadlock(db: Database) -> None:
    """Each plan's root is a package the other plans build too: the lookup rows must be locked in
    one global order, or PostgreSQL aborts one of the transactions with a deadlock."""
    for round_ in range(6):
        names = [f"p{round_}-{n}" for n in range(4)]
        start = Barrier(4)

        def record(root: str, names: list[str] = names, start: Barrier = start) -> None:
            plan = [planned_job(n) for n in names]
            start.wait()  # all plans write at the same moment
            submits.record_plan(db, planned_submit(package_name=root), plan)

        with ThreadPoolExecutor(max_workers=4) as pool:
            for future in [pool.submit(record, root) for root in reversed(names)]:
                future.result()
    assert (count_rows(db, SUBMITS), count_rows(db, JOBS)) == (24, 96)


def test_artifacts_over_4_gib_and_late_job_details(db: Database) -> None:
    job = planned_job("iso")
    submits.record_plan(db, planned_submit(), [dataclasses.replace(job, job_key=None)])
    big = 5 * 2**30
    made = artifacts.record_artifacts(db, job.uuid, [ArtifactInput("dvd.iso", "3" * 64, big)])
    assert [a.size for a in made] == [big]
    assert [a.size for a in artifacts.list_artifacts(db, job_uuid=job.uuid)] == [big]
    jobs.set_job_key(db, job.uuid, "f" * 64)
    jobs.set_container(db, job.uuid, "c" * 64)
    found = jobs.find_job(db, job.uuid)
    assert found is not None
    assert (found.job_key, found.container_hash) == ("f" * 64, "c" * 64)
    missing = uuid.uuid4()
    updates: list[Callable[[], None]] = [
        lambda: jobs.set_job_key(db, missing, "f" * 64),
        lambda: jobs.set_container(db, missing, "c"),
        lambda: logs.append_chunk(db, missing, b"x\n"),
    ]
    for update in updates:
        with pytest.raises(DatabaseError, match=f"job {missing} does not exist"):
            update()


@pytest.mark.parametrize(
    "query",
    [
        jobs.JobFilter(package="lib"),
        jobs.JobFilter(package="tool", limit=1),
        jobs.JobFilter(env=("PKG", "lib")),
        jobs.JobFilter(env=("DEBUG", "1"), package="app", states=(JobState.SUCCEEDED,)),
        jobs.JobFilter(package="base", newer_than=datetime(2024, 1, 15, tzinfo=UTC)),
    ],
    ids=["package", "package-limit", "env", "env-package-state", "package-newer"],
)
def test_job_filters_give_the_same_rows_with_few_or_many_matches(
    db: Database, query: jobs.JobFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db)
    few = [(j.uuid, j.package_name) for j in jobs.list_jobs(db, query)]
    monkeypatch.setattr(jobs, "FEW_JOBS", 1)  # every filter now matches "many" jobs
    assert [(j.uuid, j.package_name) for j in jobs.list_jobs(db, query)] == few
    assert few
    package = query.package or "lib"
    assert {name for _, name in few} == {package}


@pytest.mark.parametrize(
    "query",
    [
        jobs.JobFilter(package="nosuch"),
        jobs.JobFilter(image="nosuch"),
        jobs.JobFilter(endpoint="nosuch"),
        jobs.JobFilter(env=("PKG", "nosuch")),
        jobs.JobFilter(submit_uuid=uuid.uuid4()),
        jobs.JobFilter(package="lib", env=("PKG", "tool")),
    ],
)
def test_job_filters_with_unknown_names_match_nothing(db: Database, query: jobs.JobFilter) -> None:
    seed(db)
    assert jobs.list_jobs(db, query) == []
