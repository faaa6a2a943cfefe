"""Reproducibility verdicts and rerun selection: pure decisions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from butido_py.app.rerun import select_jobs
from butido_py.app.verdicts import (
    OutputFile,
    all_identical,
    compare_outputs,
    count_verdicts,
    output_files,
)
from butido_py.db.records import ArtifactRecord, JobDependencyRecord, JobOutputRecord, JobRecord
from butido_py.errors import UsageError
from butido_py.states import DependencyKind, JobState, RebuildVerdict

SUBMIT = uuid.UUID(int=1)
_ids = iter(range(1, 1000))


def artifact(path: str, sha256: str | None) -> ArtifactRecord:
    return ArtifactRecord(next(_ids), path, uuid.UUID(int=2), SUBMIT, sha256, 1)


def out(package: str, path: str, sha256: str | None, version: str = "1") -> OutputFile:
    return OutputFile(package, version, artifact(path, sha256))


def test_each_key_of_either_side_gets_one_verdict_in_order() -> None:
    original = [
        out("b", "b.pkg", "11"),
        out("a", "a.pkg", "22"),
        out("c", "c.pkg", "33"),
        out("d", "d.pkg", None),  # butido's rows have no sha256: never proven identical
    ]
    rebuilt = [
        out("a", "a.pkg", "22"),
        out("b", "b.pkg", "99"),
        out("d", "d.pkg", None),
        out("e", "e.pkg", "55"),
    ]
    verdicts = compare_outputs(original, rebuilt)
    assert [(v.package, v.path, v.verdict) for v in verdicts] == [
        ("a", "a.pkg", RebuildVerdict.IDENTICAL),
        ("b", "b.pkg", RebuildVerdict.DIFFERS),
        ("c", "c.pkg", RebuildVerdict.MISSING),
        ("d", "d.pkg", RebuildVerdict.DIFFERS),
        ("e", "e.pkg", RebuildVerdict.EXTRA),
    ]
    missing, extra = verdicts[2], verdicts[4]
    assert missing.rebuilt is None
    assert missing.original is not None
    assert extra.original is None
    assert extra.rebuilt is not None
    assert count_verdicts(v.verdict for v in verdicts) == {
        "identical": 1,
        "differs": 2,
        "missing": 1,
        "extra": 1,
    }
    assert not all_identical(v.verdict for v in verdicts)


def test_the_same_path_of_two_packages_or_versions_is_two_keys() -> None:
    original = [out("a", "x.pkg", "1"), out("a", "x.pkg", "2", version="2")]
    rebuilt = [out("a", "x.pkg", "1"), out("b", "x.pkg", "2")]
    verdicts = {(v.package, v.version): v.verdict for v in compare_outputs(original, rebuilt)}
    assert verdicts == {
        ("a", "1"): RebuildVerdict.IDENTICAL,
        ("a", "2"): RebuildVerdict.MISSING,
        ("b", "1"): RebuildVerdict.EXTRA,
    }


def test_job_outputs_become_files_of_their_package() -> None:
    outputs = [
        JobOutputRecord(uuid.uuid4(), "a", "1", JobState.REUSED, (artifact("a.pkg", "1"),)),
        JobOutputRecord(uuid.uuid4(), "b", "2", JobState.FAILED, ()),
    ]
    assert [f.key for f in output_files(outputs)] == [("a", "1", "a.pkg")]
    assert all_identical([])
    assert count_verdicts([]) == {}


# --- rerun selection ------------------------------------------------------------------------------


def job(name: str, state: JobState) -> JobRecord:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    return JobRecord(
        id=next(_ids), uuid=uuid.uuid5(SUBMIT, name), submit_uuid=SUBMIT, submit_time=at,
        package_name=name, package_version="1", image="img", endpoint=None, container_hash=None,
        state=state, failure_kind=None, exit_code=None, queued_at=None, started_at=None,
        finished_at=None, image_digest=None, job_key=None, reused_from_uuid=None, attempt=1,
        root_package_name="top", root_package_version="1",
    )  # fmt: skip


def needs(a: JobRecord, b: JobRecord) -> JobDependencyRecord:
    return JobDependencyRecord(a.uuid, b.uuid, DependencyKind.BUILD)


# The plan: top needs mid and side, mid needs low; lone stands alone.
LOW = job("low", JobState.FAILED)
MID = job("mid", JobState.DEP_FAILED)
TOP = job("top", JobState.DEP_FAILED)
SIDE = job("side", JobState.SUCCEEDED)
LONE = job("lone", JobState.REUSED)
JOBS = [LOW, MID, SIDE, LONE, TOP]
EDGES = [needs(MID, LOW), needs(TOP, MID), needs(TOP, SIDE)]


def names(selected: frozenset[uuid.UUID]) -> set[str]:
    return {j.package_name for j in JOBS if j.uuid in selected}


def test_failed_selects_what_did_not_succeed() -> None:
    assert names(select_jobs(JOBS, EDGES, failed=True)) == {"low", "mid", "top"}
    others = [job("x", JobState.CANCELED), job("y", JobState.LOST), job("z", JobState.REUSED)]
    assert select_jobs(others, [], failed=True) == {others[0].uuid, others[1].uuid}


def test_a_chosen_job_brings_every_dependent() -> None:
    assert names(select_jobs(JOBS, EDGES, failed=False, chosen=[SIDE.uuid])) == {"side", "top"}
    assert names(select_jobs(JOBS, EDGES, failed=False, chosen=[LOW.uuid])) == {
        "low",
        "mid",
        "top",
    }
    assert names(select_jobs(JOBS, EDGES, failed=True, chosen=[LONE.uuid])) == {
        "low",
        "mid",
        "top",
        "lone",
    }
    assert select_jobs([SIDE, LONE], [], failed=True) == frozenset()


def test_a_job_of_another_submit_is_refused() -> None:
    stranger = uuid.UUID(int=99)
    with pytest.raises(UsageError, match=f"job {stranger} is not a job of submit {SUBMIT}"):
        select_jobs(JOBS, EDGES, failed=False, chosen=[stranger])
