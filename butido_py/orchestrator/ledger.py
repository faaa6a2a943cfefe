"""`JobLedger`: what a build knows about its jobs, and the one place that writes it down.

Each transition a job makes is written to the recorder, told to the listener as a `JobEvent` and,
for final states, kept as the job's `JobSummary` (the `BuildResult`). The ledger also keeps the
bookkeeping those writes need: which jobs are recorded `queued` and `running` (a failure must
pass through them: queued → running → failed), the endpoint of each job's latest attempt and the
artifacts each finished job made or reused (the inputs of the jobs that need it).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from butido_py.db.records import ArtifactInput
from butido_py.errors import ButidoError
from butido_py.orchestrator.container_run import ContainerOutcome
from butido_py.orchestrator.dag_runner import JobResult
from butido_py.orchestrator.inputs import needed_inputs
from butido_py.orchestrator.model import (
    Artifact,
    BuildJob,
    BuildListener,
    JobEvent,
    JobEventKind,
    JobSummary,
    PreparedBuild,
    artifact_origins,
    needed_artifacts,
)
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.orchestrator.reuse_match import ReuseMatch
from butido_py.states import FailureKind, JobState

log = logging.getLogger(__name__)

Result = JobResult[uuid.UUID]
CANCELED_DETAIL = "the run was canceled"


@dataclass(frozen=True, slots=True)
class _Ran:
    """Where and how a job's container ran (for its summary)."""

    endpoint: str
    container: str | None
    exit_code: int | None
    phase: str | None


class JobLedger:
    def __init__(
        self, prepared: PreparedBuild, recorder: BuildRecorder, listener: BuildListener
    ) -> None:
        self._prepared = prepared
        self._recorder = recorder
        self._listener = listener
        self._jobs = {job.uuid: job for job in prepared.jobs}
        self._lock = threading.Lock()
        self._artifacts: dict[uuid.UUID, tuple[Artifact, ...]] = {}
        self._summaries: dict[uuid.UUID, JobSummary] = {}
        self._running: set[uuid.UUID] = set()
        self._queued: set[uuid.UUID] = set()
        #: The endpoint of each job's latest attempt.
        self._endpoint: dict[uuid.UUID, str] = {}

    # --- what is known ------------------------------------------------------------------------

    def summaries(self) -> tuple[JobSummary, ...]:
        """Every job's summary, in plan order (once the run is over)."""
        return tuple(self._summaries[job.uuid] for job in self._prepared.jobs)

    def inputs_of(self, job: BuildJob) -> tuple[Artifact, ...]:
        """The artifacts of every job `job` needs (directly or not); an `InputCollisionError`
        when two of its inputs want one /inputs name."""
        with self._lock:
            needed_inputs(job, self._jobs, self._artifacts)  # no collision in /inputs
            return needed_artifacts(job, self._artifacts)

    def input_origins(self, job: BuildJob) -> dict[str, str]:
        """sha256 of each input artifact → "<package> <version>: <path>" of the job it came from."""
        with self._lock:
            return artifact_origins(job, self._jobs, self._artifacts)

    # --- transitions --------------------------------------------------------------------------

    def reused(self, job: BuildJob, match: ReuseMatch) -> Result:
        self._recorder.reused(job.uuid, source=match.job)
        with self._lock:
            self._artifacts[job.uuid] = match.artifacts
        self._summaries[job.uuid] = _summary(
            job, JobState.REUSED, artifacts=match.artifacts, reused_from=match.job
        )
        self.event(job, JobEventKind.REUSED, state=JobState.REUSED)
        return JobResult(job.uuid, JobState.REUSED, payload=match.job)

    def queued(self, job: BuildJob, inputs: Sequence[Artifact], *, claimed: bool = False) -> None:
        """`claimed`: the job was recorded `queued` already (coalescing's claim)."""
        if not claimed:
            self._recorder.queued(job.uuid)
        self._queued.add(job.uuid)
        self._recorder.inputs(job.uuid, inputs)
        self.event(job, JobEventKind.QUEUED)

    def attempt(self, job: BuildJob, endpoint: str, attempt: int) -> None:
        self._endpoint[job.uuid] = endpoint
        self._recorder.attempt_started(job.uuid, attempt=attempt, endpoint=endpoint)

    def started(self, job: BuildJob, endpoint: str, container: str) -> None:
        """Its container runs now."""
        self._mark_running(job, endpoint, container)
        self.event(job, JobEventKind.STARTED, endpoint=endpoint, container=container)

    def retrying(self, job: BuildJob, endpoint: str, attempt: int, why: str) -> None:
        """Its attempt number `attempt - 1` failed on `endpoint`: it is queued again."""
        self._recorder.retried(job.uuid, attempt=attempt)
        total = self._prepared.settings.job_attempts
        detail = f"attempt {attempt} of {total}: {why}"
        self.event(job, JobEventKind.RETRY, endpoint=endpoint, detail=detail)
        self._running.discard(job.uuid)

    def concluded(self, job: BuildJob, endpoint: str, outcome: ContainerOutcome) -> Result:
        """Its container ran (or the endpoint gave up on it): succeeded or failed."""
        ran = _Ran(endpoint, outcome.container_id, outcome.exit_code, outcome.log.phase)
        if not outcome.ok:
            return self._container_failed(job, ran, outcome)
        self._recorder.succeeded(
            job.uuid,
            exit_code=outcome.exit_code or 0,
            artifacts=[ArtifactInput(s.path, s.sha256, s.size) for s in outcome.staged],
            at=outcome.exited_at,
        )
        staging = self._prepared.staging_dir
        made = tuple(
            Artifact(None, s.path, staging / s.path, s.sha256, made_by=job.uuid)
            for s in outcome.staged
        )
        with self._lock:
            self._artifacts[job.uuid] = made
        self._summaries[job.uuid] = _summary(job, JobState.SUCCEEDED, artifacts=made, ran=ran)
        return JobResult(job.uuid, JobState.SUCCEEDED)

    def failed(self, job: BuildJob, kind: FailureKind, error: str) -> Result:
        """A failure outside the container (the job may not be queued yet: it passes through
        the states a failure needs, on the endpoint of its last attempt or the first one)."""
        if job.uuid not in self._queued:
            self._recorder.queued(job.uuid)
        where = self._endpoint.get(job.uuid, self._prepared.endpoints[0].name)
        self._mark_running(job, where, None)
        self._recorder.failed(job.uuid, kind=kind, exit_code=None, log_text=None)
        self._summaries[job.uuid] = _summary(job, JobState.FAILED, error=error)
        return JobResult(job.uuid, JobState.FAILED, error)

    def canceled(self, job: BuildJob) -> Result:
        try:
            self._recorder.canceled(job.uuid)
        except ButidoError as error:
            log.warning("recording the cancellation of %s failed: %s", job.label, error)
        self._summaries[job.uuid] = _summary(job, JobState.CANCELED)
        return JobResult(job.uuid, JobState.CANCELED, CANCELED_DETAIL)

    def heard(self, result: Result) -> None:
        """A final result from the DAG runner: the jobs it never ran (dependents of a failure,
        cancellation) are recorded here, the others recorded their own."""
        job = self._jobs[result.job]
        if result.job not in self._summaries:
            self._unrun(job, result.outcome, result.detail)
        self.event(job, JobEventKind.FINISHED, state=self._summaries[result.job].state)

    # --- events -------------------------------------------------------------------------------

    def event(
        self,
        job: BuildJob,
        kind: JobEventKind,
        *,
        endpoint: str | None = None,
        container: str | None = None,
        phase: str | None = None,
        progress: int | None = None,
        state: str | None = None,
        detail: str | None = None,
    ) -> None:
        event = JobEvent(
            kind,
            job.uuid,
            job.package.name,
            job.package.version,
            endpoint=endpoint,
            container=container,
            phase=phase,
            progress=progress,
            state=state,
            detail=detail,
        )
        try:
            self._listener.event(event)
        except Exception:  # a display problem must never stop a build
            log.exception("progress display failed")

    # --- helpers ------------------------------------------------------------------------------

    def _container_failed(self, job: BuildJob, ran: _Ran, outcome: ContainerOutcome) -> Result:
        self._mark_running(job, ran.endpoint, outcome.container_id)
        self._recorder.failed(
            job.uuid,
            kind=outcome.failure_kind or FailureKind.INFRA,
            exit_code=outcome.exit_code,
            log_text=None,
            at=outcome.exited_at,
        )
        error = str(outcome.error) if outcome.error else outcome.log.error
        if error is None and outcome.exit_code:
            error = f"the script exited with code {outcome.exit_code}"
        self._summaries[job.uuid] = _summary(
            job, JobState.FAILED, error=error, tail=outcome.tail, ran=ran
        )
        return JobResult(job.uuid, JobState.FAILED, error or "")

    def _mark_running(self, job: BuildJob, endpoint: str, container: str | None) -> None:
        if job.uuid in self._running:
            return
        self._recorder.running(
            job.uuid,
            endpoint=endpoint,
            container=container,
            image_digest=self._prepared.image_ids[endpoint],
        )
        self._running.add(job.uuid)

    def _unrun(self, job: BuildJob, state: JobState, detail: str) -> None:
        try:
            if state is JobState.DEP_FAILED:
                self._recorder.dep_failed(job.uuid)
            elif state is JobState.CANCELED:
                self._recorder.canceled(job.uuid)
            else:  # the job's thread died of a bug the runner caught
                state = JobState.FAILED
                self._recorder.failed(
                    job.uuid, kind=FailureKind.INFRA, exit_code=None, log_text=None
                )
        except ButidoError as error:
            log.warning("recording %s of %s failed: %s", state, job.label, error)
        self._summaries[job.uuid] = _summary(job, state, error=detail)


def _summary(
    job: BuildJob,
    state: JobState,
    *,
    error: str | None = None,
    tail: Sequence[tuple[int, str]] = (),
    artifacts: tuple[Artifact, ...] = (),
    reused_from: uuid.UUID | None = None,
    ran: _Ran | None = None,
) -> JobSummary:
    return JobSummary(
        uuid=job.uuid,
        package=job.package.name,
        version=job.package.version,
        state=state,
        error=error,
        last_lines=tuple(tail),
        artifacts=artifacts,
        reused_from=reused_from,
        endpoint=ran.endpoint if ran else None,
        container=ran.container if ran else None,
        exit_code=ran.exit_code if ran else None,
        phase=ran.phase if ran else None,
    )
