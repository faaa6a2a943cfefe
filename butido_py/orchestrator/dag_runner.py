"""Runs the jobs of a DAG in dependency order, in parallel, and never loses a result.

A `graphlib.TopologicalSorter` hands out the jobs whose dependencies are done; each runs in a
worker thread through the caller's `execute` function (which itself waits for an endpoint slot).
When a job fails, all its transitive dependents are marked `dep_failed` at once and never run;
everything independent of it still runs to completion. `cancel()` (Ctrl-C) lets running jobs be
stopped by the caller, starts nothing new and marks everything unfinished `canceled`.
"""

from __future__ import annotations

import graphlib
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

from butido_py.states import JobState

JobId = TypeVar("JobId")


@dataclass(frozen=True, slots=True)
class JobResult(Generic[JobId]):
    job: JobId
    #: The job's final state: succeeded, reused, failed, dep_failed or canceled.
    outcome: JobState
    detail: str = ""
    #: Anything the executor wants to pass on to dependents (e.g. the artifacts made).
    payload: object = None


Execute = Callable[[JobId, Mapping[JobId, JobResult[JobId]]], JobResult[JobId]]
Listener = Callable[[JobResult[JobId]], None]


class DagRunner(Generic[JobId]):
    """`dependencies[job]` = the jobs `job` needs. Every job gets exactly one result."""

    def __init__(self, dependencies: Mapping[JobId, frozenset[JobId]], *, workers: int) -> None:
        self._dependencies = dependencies
        self._dependents: dict[JobId, set[JobId]] = {job: set() for job in dependencies}
        for job, needs in dependencies.items():
            for need in needs:
                self._dependents[need].add(job)
        self._workers = max(1, workers)
        self._results: dict[JobId, JobResult[JobId]] = {}
        self._canceled = threading.Event()

    def cancel(self) -> None:
        self._canceled.set()

    @property
    def canceled(self) -> bool:
        return self._canceled.is_set()

    def run(
        self, execute: Execute[JobId], listener: Listener[JobId]
    ) -> dict[JobId, JobResult[JobId]]:
        """Run every job; `listener` hears each result as it happens (from the calling thread)."""
        sorter = graphlib.TopologicalSorter(self._dependencies)
        sorter.prepare()  # raises graphlib.CycleError; plans are checked before this point
        running: dict[Future[JobResult[JobId]], JobId] = {}
        with ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="job") as pool:
            while sorter.is_active():
                for job in sorter.get_ready():
                    if job in self._results:  # already dep_failed or canceled
                        sorter.done(job)
                        continue
                    if self.canceled:
                        self._record(
                            JobResult(job, JobState.CANCELED, "the run was canceled"), listener
                        )
                        sorter.done(job)
                        continue
                    inputs = {need: self._results[need] for need in self._dependencies[job]}
                    running[pool.submit(execute, job, inputs)] = job
                if not running:
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    job = running.pop(future)
                    self._finish(job, future, listener)
                    sorter.done(job)
        return dict(self._results)

    def _finish(
        self, job: JobId, future: Future[JobResult[JobId]], listener: Listener[JobId]
    ) -> None:
        error = future.exception()
        if error is not None:
            result: JobResult[JobId] = JobResult(
                job, JobState.FAILED, f"{type(error).__name__}: {error}"
            )
        else:
            result = future.result()
        self._record(result, listener)
        if result.outcome.ok is not True:
            self._fail_dependents(job, listener)

    def _fail_dependents(self, failed: JobId, listener: Listener[JobId]) -> None:
        stack = list(self._dependents[failed])
        while stack:
            job = stack.pop()
            if job in self._results:
                continue
            outcome = JobState.CANCELED if self.canceled else JobState.DEP_FAILED
            self._record(JobResult(job, outcome, f"dependency {failed} did not succeed"), listener)
            stack.extend(self._dependents[job])

    def _record(self, result: JobResult[JobId], listener: Listener[JobId]) -> None:
        self._results[result.job] = result
        listener(result)
