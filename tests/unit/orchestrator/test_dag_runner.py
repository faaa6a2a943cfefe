"""The DAG runner's decisions: order, parallelism, failure propagation, cancellation."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from butido_py.orchestrator.dag_runner import DagRunner, JobResult
from butido_py.states import JobState

# d depends on b and c, which both depend on a (a diamond); e is independent; f depends on d.
DIAMOND: dict[str, frozenset[str]] = {
    "a": frozenset(),
    "b": frozenset({"a"}),
    "c": frozenset({"a"}),
    "d": frozenset({"b", "c"}),
    "e": frozenset(),
    "f": frozenset({"d"}),
}


class Recorder:
    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.failing = failing
        self.started: list[str] = []
        self.heard: list[tuple[str, JobState]] = []
        self.lock = threading.Lock()

    def execute(self, job: str, inputs: Mapping[str, JobResult[str]]) -> JobResult[str]:
        with self.lock:
            self.started.append(job)
        assert all(result.outcome.ok for result in inputs.values())
        if job in self.failing:
            return JobResult(job, JobState.FAILED, "script failed")
        return JobResult(job, JobState.SUCCEEDED, payload={job} | set().union(
            *(r.payload for r in inputs.values() if isinstance(r.payload, set))))  # fmt: skip

    def listen(self, result: JobResult[str]) -> None:
        self.heard.append((result.job, result.outcome))


def test_every_job_runs_after_its_dependencies() -> None:
    recorder = Recorder()
    results = DagRunner(DIAMOND, workers=4).run(recorder.execute, recorder.listen)
    order = recorder.started
    for job, needs in DIAMOND.items():
        assert all(order.index(need) < order.index(job) for need in needs), (job, order)
    assert {job: r.outcome for job, r in results.items()} == dict.fromkeys(
        DIAMOND, JobState.SUCCEEDED
    )
    # Each job saw the results of all its transitive dependencies through its inputs.
    assert results["f"].payload == {"a", "b", "c", "d", "f"}


def test_failure_marks_transitive_dependents_and_independent_jobs_still_run() -> None:
    recorder = Recorder(failing=frozenset({"b"}))
    results = DagRunner(DIAMOND, workers=2).run(recorder.execute, recorder.listen)
    outcomes = {job: r.outcome for job, r in results.items()}
    assert outcomes == {
        "a": JobState.SUCCEEDED,
        "b": JobState.FAILED,
        "c": JobState.SUCCEEDED,
        "d": JobState.DEP_FAILED,
        "e": JobState.SUCCEEDED,
        "f": JobState.DEP_FAILED,
    }
    assert "d" not in recorder.started
    assert "f" not in recorder.started
    assert results["d"].detail == "dependency b did not succeed"
    # Dependents are reported as soon as the failure is known, each exactly once.
    assert sorted(job for job, _ in recorder.heard) == sorted(DIAMOND)


def test_an_exception_in_a_job_is_a_failure_not_a_crash() -> None:
    def explode(job: str, inputs: Mapping[str, JobResult[str]]) -> JobResult[str]:
        if job == "a":
            raise OSError("endpoint vanished")
        return JobResult(job, JobState.SUCCEEDED)

    results = DagRunner(DIAMOND, workers=2).run(explode, lambda r: None)
    assert results["a"].outcome is JobState.FAILED
    assert results["a"].detail == "OSError: endpoint vanished"
    assert results["e"].outcome is JobState.SUCCEEDED
    assert {results[j].outcome for j in "bcdf"} == {JobState.DEP_FAILED}


def test_parallel_jobs_really_run_at_the_same_time() -> None:
    barrier = threading.Barrier(3, timeout=10)

    def meet(job: str, inputs: Mapping[str, JobResult[str]]) -> JobResult[str]:
        barrier.wait()  # only returns when three jobs are running at once
        return JobResult(job, JobState.SUCCEEDED)

    independent = {name: frozenset[str]() for name in "xyz"}
    results = DagRunner(independent, workers=3).run(meet, lambda r: None)
    assert {r.outcome for r in results.values()} == {JobState.SUCCEEDED}


def test_cancel_stops_new_jobs_and_marks_the_rest_canceled() -> None:
    runner: DagRunner[str] = DagRunner(DIAMOND, workers=1)

    def cancel_after_a(job: str, inputs: Mapping[str, JobResult[str]]) -> JobResult[str]:
        if job == "a":
            runner.cancel()
            return JobResult(job, JobState.CANCELED, "stopped")
        return JobResult(job, JobState.SUCCEEDED)

    results = runner.run(cancel_after_a, lambda r: None)
    assert results["a"].outcome is JobState.CANCELED
    assert {results[j].outcome for j in "bcdf"} == {JobState.CANCELED}
    assert results["e"].outcome in (JobState.SUCCEEDED, JobState.CANCELED)
    assert len(results) == len(DIAMOND)


def test_reused_jobs_count_as_success_for_dependents() -> None:
    def reuse_a(job: str, inputs: Mapping[str, JobResult[str]]) -> JobResult[str]:
        return JobResult(job, JobState.REUSED if job == "a" else JobState.SUCCEEDED)

    results = DagRunner(DIAMOND, workers=2).run(reuse_a, lambda r: None)
    assert results["a"].outcome is JobState.REUSED
    assert results["f"].outcome is JobState.SUCCEEDED
