"""`BuildRun`: the mutable state of one running build, and the loop that runs its jobs.

The plan is recorded (every job `planned`) before the first container starts. A `DagRunner`
feeds ready jobs to worker threads; each computes its job key from its real inputs, is reused
when an earlier job with that key still has its artifacts, or runs its container on an endpoint.

Two kinds of slots per endpoint keep the engine busy without ever running more than `maxjobs`
containers on it: a job takes one of `PREPARED_PER_SLOT * maxjobs` *container* slots (chosen by
the scheduler: the least-utilised endpoint) to create its container and copy its inputs in, then
waits for one of the endpoint's `maxjobs` *run* slots to start it, and gives the run slot back as
soon as the container has stopped, before its /outputs are copied out. So the next job's container
is ready when a running one ends, and copying files in and out overlaps the running containers.
Every transition is written as it happens. `cancel()` (Ctrl-C) starts nothing new,
removes the submit's containers and marks what did not finish `canceled`.

Failover: every try of a job on an endpoint is an attempt (`job_attempts`). When the endpoint
fails (unreachable, container not created, inputs or outputs not copied, the engine died while the
job ran; never the script) the job is queued again and retried on another endpoint, up to
`job_attempts` tries; the endpoint's consecutive failures are counted, and from
`quarantine_after` on it is quarantined: the scheduler gives it no more jobs.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from butido_py.db.records import ArtifactInput
from butido_py.endpoint.docker_hosts import remove_containers, submit_containers
from butido_py.endpoint.docker_job import PREPARED_PER_SLOT, ContainerSpec, EndpointClients
from butido_py.endpoint.scheduler import NoEndpointError, Scheduler, SchedulerClosedError
from butido_py.errors import ButidoError, DatabaseError, StoreError
from butido_py.logproto import LogRecord, RecordKind
from butido_py.orchestrator.container_run import (
    ContainerHooks,
    ContainerOutcome,
    ContainerRun,
    container_inputs,
    container_name,
    run_container,
)
from butido_py.orchestrator.dag_runner import DagRunner, JobResult, Outcome
from butido_py.orchestrator.heap import fix_malloc_thresholds
from butido_py.orchestrator.job_key import JobKeyInputs, job_key
from butido_py.orchestrator.model import (
    Artifact,
    BuildJob,
    BuildListener,
    BuildResult,
    JobEvent,
    JobEventKind,
    JobSummary,
    PreparedBuild,
)
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.orchestrator.reuse import (
    ArtifactLocator,
    ReuseMatch,
    find_job_to_reuse,
    find_reusable,
)
from butido_py.states import FailureKind, SubmitState

log = logging.getLogger(__name__)

#: How often a running build records that it is alive (`submits.heartbeat_at`).
HEARTBEAT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class _Ran:
    """Where and how a job's container ran (for its summary)."""

    endpoint: str
    container: str | None
    exit_code: int | None
    phase: str | None


class BuildRun:
    def __init__(
        self, prepared: PreparedBuild, recorder: BuildRecorder, listener: BuildListener
    ) -> None:
        self.prepared = prepared
        self._recorder = recorder
        self._listener = listener
        self._jobs = {job.uuid: job for job in prepared.jobs}
        self._endpoints = {endpoint.name: endpoint for endpoint in prepared.endpoints}
        #: Container slots: where a job's container is made (least-utilised endpoint first).
        self._scheduler = Scheduler(
            [(e.name, PREPARED_PER_SLOT * e.maxjobs) for e in prepared.endpoints]
        )
        #: Run slots: never more than `maxjobs` running containers on an endpoint.
        self._run_slots = {e.name: Scheduler([(e.name, e.maxjobs)]) for e in prepared.endpoints}
        containers = sum(PREPARED_PER_SLOT * e.maxjobs for e in prepared.endpoints)
        self._runner: DagRunner[uuid.UUID] = DagRunner(
            {job.uuid: frozenset(need for need, _ in job.needs) for job in prepared.jobs},
            workers=min(len(prepared.jobs), containers + 4),
        )
        settings = prepared.settings
        self._locator = ArtifactLocator(settings.staging_roots, settings.release_dirs)
        self._lock = threading.Lock()
        self._canceled = threading.Event()
        self._containers: dict[str, str] = {}  # container id → endpoint name
        self._artifacts: dict[uuid.UUID, tuple[Artifact, ...]] = {}
        self._summaries: dict[uuid.UUID, JobSummary] = {}
        #: Jobs recorded `running` (a failure must pass through it: queued → running → failed).
        self._running: set[uuid.UUID] = set()
        self._queued: set[uuid.UUID] = set()
        #: The endpoint of each job's latest attempt.
        self._attempt_endpoint: dict[uuid.UUID, str] = {}
        #: Endpoints whose consecutive failures are known to be 0 in the database.
        self._healthy: set[str] = set()
        self._clients = EndpointClients()
        # Containers are removed off the jobs' critical path; the run waits for it at the end.
        self._cleanup = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cleanup")
        self._stopped = threading.Event()

    # --- control ------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the run (safe to call from a signal handler: the slow part runs in a thread)."""
        if self._canceled.is_set():
            return
        self._canceled.set()
        self._runner.cancel()
        self._scheduler.close()
        for slots in self._run_slots.values():
            slots.close()
        threading.Thread(target=self._remove_tracked, name="cancel", daemon=True).start()

    @property
    def canceled(self) -> bool:
        return self._canceled.is_set()

    def _remove_tracked(self) -> None:
        with self._lock:
            tracked = dict(self._containers)
        for container_id, endpoint in tracked.items():
            try:
                remove_containers(self._endpoints[endpoint], [container_id])
            except ButidoError as error:
                log.warning("could not remove container %s: %s", container_id[:12], error)

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> BuildResult:
        started = time.monotonic()
        fix_malloc_thresholds()
        self._recorder.record_plan(self.prepared)
        self._recorder.start()
        self.prepared.staging_dir.mkdir(parents=True, exist_ok=True)
        self._listener.started(self.prepared)
        heartbeat = threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)
        heartbeat.start()
        try:
            self._runner.run(self._execute, self._heard)
        finally:
            self._stopped.set()
            self._cleanup.shutdown(wait=True)
            if not self.prepared.settings.keep_containers:
                self._sweep_containers()
            self._clients.close()
            self._listener.finished()
        jobs = tuple(self._summaries[job.uuid] for job in self.prepared.jobs)
        if self._canceled.is_set():
            state = SubmitState.CANCELED
        elif all(j.state in ("succeeded", "reused") for j in jobs):
            state = SubmitState.SUCCEEDED
        else:
            state = SubmitState.FAILED
        self._recorder.finish_submit(self.prepared.submit_uuid, state)
        self._recorder.stop()
        if self._recorder.errors:
            error = self._recorder.errors[0]
            raise DatabaseError(
                f"{len(self._recorder.errors)} database writes of submit "
                f"{self.prepared.submit_uuid} failed; the first: {error.message}",
                hint=error.hint,
            )
        return BuildResult(
            submit_uuid=self.prepared.submit_uuid,
            state=str(state),
            staging_dir=self.prepared.staging_dir,
            jobs=jobs,
            seconds=time.monotonic() - started,
        )

    def _sweep_containers(self) -> None:
        """Whatever happened, no container of this submit stays behind."""
        for endpoint in self.prepared.endpoints:
            try:
                left = submit_containers(endpoint, str(self.prepared.submit_uuid))
                if left:
                    remove_containers(endpoint, left)
            except ButidoError as error:
                log.warning("could not clean up containers on %s: %s", endpoint.name, error)

    def _heard(self, result: JobResult[uuid.UUID]) -> None:
        """Results of the runner itself (dependents of a failure, cancellation) are recorded
        here; the workers recorded their own."""
        job = self._jobs[result.job]
        if result.job not in self._summaries:
            state = "dep_failed" if result.outcome is Outcome.DEP_FAILED else "canceled"
            if result.outcome is Outcome.FAILED:
                state = "failed"
            self._record_unrun(job, state, result.detail)
        summary = self._summaries[result.job]
        self._event(job, JobEventKind.FINISHED, state=summary.state)

    def _heartbeat(self) -> None:
        while not self._stopped.wait(HEARTBEAT_SECONDS):
            try:
                self._recorder.heartbeat(self.prepared.submit_uuid)
            except ButidoError as error:
                log.warning("heartbeat failed: %s", error)

    def _record_unrun(self, job: BuildJob, state: str, detail: str) -> None:
        try:
            if state == "dep_failed":
                self._recorder.dep_failed(job.uuid)
            elif state == "canceled":
                self._recorder.canceled(job.uuid)
            else:
                self._recorder.failed(
                    job.uuid, kind=FailureKind.INFRA, exit_code=None, log_text=None
                )
        except ButidoError as error:
            log.warning("recording %s of %s failed: %s", state, job.label, error)
        self._summaries[job.uuid] = self._summary(job, state, error=detail)

    # --- one job (worker threads) -------------------------------------------------------------

    def _execute(
        self, job_uuid: uuid.UUID, direct: Mapping[uuid.UUID, JobResult[uuid.UUID]]
    ) -> JobResult[uuid.UUID]:
        job = self._jobs[job_uuid]
        try:
            return self._execute_job(job, direct)
        except SchedulerClosedError:
            return self._finish_canceled(job)
        except NoEndpointError:
            return self._finish_failed(
                job,
                FailureKind.INFRA,
                "no endpoint left to run it: every endpoint of the build is quarantined after "
                "infrastructure failures (`butido endpoint list` shows them)",
            )
        except ButidoError as error:
            if self._canceled.is_set():
                return self._finish_canceled(job)
            return self._finish_failed(job, FailureKind.INFRA, str(error))
        except Exception as error:  # a bug in one job must not stop the others
            log.exception("job %s (%s) failed unexpectedly", job.uuid, job.label)
            return self._finish_failed(job, FailureKind.INFRA, f"{type(error).__name__}: {error}")

    def _execute_job(
        self, job: BuildJob, direct: Mapping[uuid.UUID, JobResult[uuid.UUID]]
    ) -> JobResult[uuid.UUID]:
        if self._canceled.is_set():
            return self._finish_canceled(job)
        inputs = self._input_artifacts(job)
        key = self._key(job, inputs)
        self._recorder.set_job_key(job.uuid, key)
        match = self._reusable(job, key, needs_reused=_all_reused(direct.values()))
        if match is not None:
            self._recorder.reused(job.uuid, source=match.job)
            with self._lock:
                self._artifacts[job.uuid] = match.artifacts
            self._summaries[job.uuid] = self._summary(
                job, "reused", artifacts=match.artifacts, reused_from=match.job
            )
            self._event(job, JobEventKind.REUSED, state="reused")
            return JobResult(job.uuid, Outcome.REUSED, payload=match.job)
        self._recorder.queued(job.uuid)
        self._queued.add(job.uuid)
        self._recorder.inputs(job.uuid, inputs)
        self._event(job, JobEventKind.QUEUED)
        return self._attempts(job, inputs)

    def _attempts(self, job: BuildJob, inputs: tuple[Artifact, ...]) -> JobResult[uuid.UUID]:
        """Try the job until it ran (whatever its script did), retrying on another endpoint
        (when there is one) after endpoint failures, at most `job_attempts` times."""
        failed_on: set[str] = set()
        attempt = 1
        while True:
            with self._scheduler.slot(avoid=frozenset(failed_on)) as endpoint_name:
                if self._canceled.is_set():
                    return self._finish_canceled(job)
                self._attempt_endpoint[job.uuid] = endpoint_name
                self._recorder.attempt_started(job.uuid, attempt=attempt, endpoint=endpoint_name)
                outcome = self._run_on(job, endpoint_name, inputs)
                if not self._retry(job, endpoint_name, outcome, attempt):
                    return self._conclude(job, endpoint_name, outcome)
            failed_on.add(endpoint_name)
            attempt += 1

    def _retry(
        self, job: BuildJob, endpoint_name: str, outcome: ContainerOutcome, attempt: int
    ) -> bool:
        """Record how the attempt ended and the endpoint's health; whether to try again."""
        canceled = self._canceled.is_set() and not outcome.ok
        kind = FailureKind.CANCELED if canceled else outcome.failure_kind
        error = None
        if not canceled and not outcome.ok:
            error = str(outcome.error) if outcome.error is not None else outcome.log.error
        self._recorder.attempt_finished(
            job.uuid, attempt=attempt, container=outcome.container_id, kind=kind, error=error
        )
        if canceled:
            return False
        if not outcome.endpoint_failed:
            self._endpoint_worked(endpoint_name)
            return False
        self._endpoint_broke(endpoint_name)
        settings = self.prepared.settings
        if attempt >= settings.job_attempts:
            return False
        log.warning(
            "%s: attempt %d of %d on endpoint %s failed (%s); retrying on another endpoint",
            job.label,
            attempt,
            settings.job_attempts,
            endpoint_name,
            error,
        )
        self._recorder.retried(job.uuid, attempt=attempt + 1)
        self._event(
            job,
            JobEventKind.RETRY,
            endpoint=endpoint_name,
            detail=f"attempt {attempt + 1} of {settings.job_attempts}: {error}",
        )
        self._running.discard(job.uuid)
        log_path = self._log_path(job)
        if log_path is not None:
            log_path.unlink(missing_ok=True)  # the next attempt writes the job's log anew
        return True

    def _endpoint_worked(self, name: str) -> None:
        """The engine did its part (whatever the script did): its failure count starts again."""
        with self._lock:
            if name in self._healthy:
                return
            self._healthy.add(name)
        self._recorder.endpoint_succeeded(name)

    def _endpoint_broke(self, name: str) -> None:
        with self._lock:
            self._healthy.discard(name)
        settings = self.prepared.settings
        try:
            record = self._recorder.endpoint_failed(
                name, after=settings.quarantine_after, seconds=settings.quarantine_seconds
            )
        except ButidoError as error:
            log.warning("recording the failure of endpoint %s failed: %s", name, error)
            return
        until = record.quarantined_until
        if until is not None and until > datetime.now(UTC):
            log.warning(
                "endpoint %s is quarantined until %s after %d infrastructure failures: "
                "it gets no more jobs",
                name,
                until.strftime("%Y-%m-%d %H:%M:%S UTC"),
                record.consecutive_failures,
            )
            self._scheduler.set_available(name, False)

    def _reusable(self, job: BuildJob, key: str, *, needs_reused: bool) -> ReuseMatch | None:
        """An earlier job to reuse: the one the plan names (a rerun), as long as every job this
        one needs was reused too, else any earlier job with the same key (when reuse is on)."""
        earlier = self.prepared.reuse_from.get(job.uuid)
        if earlier is not None and not needs_reused:
            # A job it needs ran again (its artifacts were gone): the earlier outputs were made
            # from other inputs. (Reuse by key below stays safe: keys hold input digests.)
            log.warning(
                "job %s of %s: a job it needs ran again, so it runs too", earlier, job.label
            )
        elif earlier is not None:
            match = find_job_to_reuse(self._recorder, self._locator, earlier)
            if match is not None:
                return match
            log.warning("job %s of %s: its artifacts are gone, it runs again", earlier, job.label)
        if not self.prepared.settings.reuse:
            return None
        return find_reusable(
            self._recorder, self._locator, job.package.name, job.package.version, key
        )

    def _run_on(
        self, job: BuildJob, endpoint_name: str, inputs: tuple[Artifact, ...]
    ) -> ContainerOutcome:
        endpoint = self._endpoints[endpoint_name]
        spec = ContainerSpec(
            image=self.prepared.image,
            name=container_name(job),
            labels={
                "butido.submit": str(self.prepared.submit_uuid),
                "butido.job": str(job.uuid),
                "butido.package": job.package.name,
                "butido.version": job.package.version,
            },
            environment=job.env,
            network_mode=endpoint.network_mode,
            inputs=container_inputs(job, inputs, self.prepared.patch_contents),
        )
        hooks = ContainerHooks(
            created=lambda cid: self._created(endpoint_name, cid),
            record=lambda record: self._log_record(job, endpoint_name, record),
            log_text=lambda text: self._recorder.append_log(job.uuid, text),
            running=lambda cid: self._running_slot(job, endpoint_name, cid),
        )
        settings = self.prepared.settings
        run = ContainerRun(
            endpoint,
            spec,
            staging_dir=self.prepared.staging_dir,
            job=job.uuid,
            keep=settings.keep_containers,
            tail=settings.build_error_lines,
            log_path=self._log_path(job),
        )
        try:
            outcome = run_container(run, hooks, clients=self._clients, defer_removal=self._defer)
        except OSError as error:  # the --write-log file
            outcome = ContainerOutcome(
                error=StoreError(f"cannot write the log of {job.label}: {error}"),
                failure_kind=FailureKind.INFRA,
            )
        with self._lock:
            self._containers.pop(outcome.container_id or "", None)
        return outcome

    def _defer(self, removal: Callable[[], None]) -> None:
        self._cleanup.submit(removal)

    def _mark_running(self, job: BuildJob, endpoint_name: str, container: str | None) -> None:
        if job.uuid in self._running:
            return
        self._recorder.running(
            job.uuid,
            endpoint=endpoint_name,
            container=container,
            image_digest=self.prepared.image_ids[endpoint_name],
        )
        self._running.add(job.uuid)

    def _created(self, endpoint_name: str, container_id: str) -> bool:
        with self._lock:
            self._containers[container_id] = endpoint_name
        # Checked after registering: either cancel() sees this container or we see the flag.
        return not self._canceled.is_set()

    @contextmanager
    def _running_slot(self, job: BuildJob, endpoint_name: str, container_id: str) -> Iterator[None]:
        """One of the endpoint's `maxjobs` run slots while the container runs; the job is
        recorded `running` only once it has the slot."""
        with self._run_slots[endpoint_name].slot():
            if self._canceled.is_set():
                raise SchedulerClosedError
            self._mark_running(job, endpoint_name, container_id)
            self._event(job, JobEventKind.STARTED, endpoint=endpoint_name, container=container_id)
            yield

    def _log_record(self, job: BuildJob, endpoint_name: str, record: LogRecord) -> None:
        if record.kind is RecordKind.PHASE:
            self._event(job, JobEventKind.PHASE, endpoint=endpoint_name, phase=record.value)
        elif record.kind is RecordKind.PROGRESS:
            self._event(
                job, JobEventKind.PROGRESS, endpoint=endpoint_name, progress=record.progress
            )

    def _conclude(
        self, job: BuildJob, endpoint_name: str, outcome: ContainerOutcome
    ) -> JobResult[uuid.UUID]:
        if self._canceled.is_set() and not outcome.ok:
            return self._finish_canceled(job)
        ran = _Ran(endpoint_name, outcome.container_id, outcome.exit_code, outcome.log.phase)
        if not outcome.ok:
            kind = outcome.failure_kind or FailureKind.INFRA
            self._mark_running(job, endpoint_name, outcome.container_id)
            self._recorder.failed(
                job.uuid,
                kind=kind,
                exit_code=outcome.exit_code,
                log_text=None,
                at=outcome.exited_at,
            )
            error = str(outcome.error) if outcome.error else outcome.log.error
            if error is None and outcome.exit_code:
                error = f"the script exited with code {outcome.exit_code}"
            self._summaries[job.uuid] = self._summary(
                job, "failed", error=error, tail=outcome.tail, ran=ran
            )
            return JobResult(job.uuid, Outcome.FAILED, error or "")
        self._recorder.succeeded(
            job.uuid,
            exit_code=outcome.exit_code or 0,
            artifacts=[ArtifactInput(s.path, s.sha256, s.size) for s in outcome.staged],
            at=outcome.exited_at,
        )
        made = tuple(
            Artifact(None, s.path, self.prepared.staging_dir / s.path, s.sha256, made_by=job.uuid)
            for s in outcome.staged
        )
        with self._lock:
            self._artifacts[job.uuid] = made
        self._summaries[job.uuid] = self._summary(job, "succeeded", artifacts=made, ran=ran)
        return JobResult(job.uuid, Outcome.SUCCEEDED)

    def _finish_canceled(self, job: BuildJob) -> JobResult[uuid.UUID]:
        try:
            self._recorder.canceled(job.uuid)
        except ButidoError as error:
            log.warning("recording the cancellation of %s failed: %s", job.label, error)
        self._summaries[job.uuid] = self._summary(job, "canceled")
        return JobResult(job.uuid, Outcome.CANCELED, "the run was canceled")

    def _finish_failed(self, job: BuildJob, kind: FailureKind, error: str) -> JobResult[uuid.UUID]:
        """An infrastructure failure outside the container (the job may not be queued yet: it
        passes through the states a failure needs, on the first endpoint)."""
        if job.uuid not in self._queued:
            self._recorder.queued(job.uuid)
        where = self._attempt_endpoint.get(job.uuid, self.prepared.endpoints[0].name)
        self._mark_running(job, where, None)
        self._recorder.failed(job.uuid, kind=kind, exit_code=None, log_text=None)
        self._summaries[job.uuid] = self._summary(job, "failed", error=error)
        return JobResult(job.uuid, Outcome.FAILED, error)

    # --- helpers ------------------------------------------------------------------------------

    def _input_artifacts(self, job: BuildJob) -> tuple[Artifact, ...]:
        with self._lock:
            return tuple(a for need in job.transitive for a in self._artifacts.get(need, ()))

    def _key(self, job: BuildJob, inputs: tuple[Artifact, ...]) -> str:
        patches = self.prepared.patch_contents
        return job_key(
            JobKeyInputs(
                name=job.package.name,
                version=job.package.version,
                script=job.script,
                image_digest=self.prepared.image_digest,
                environment=job.env,
                sources=[
                    (e.source.name, str(e.source.hash_type), e.source.hash_value)
                    for e in job.sources
                ],
                patches=[(p, hashlib.sha256(patches[p]).hexdigest()) for p in job.package.patches],
                input_artifacts=[a.sha256 for a in inputs],
            )
        )

    def _log_path(self, job: BuildJob) -> Path | None:
        settings = self.prepared.settings
        if not settings.write_log or settings.log_dir is None:
            return None
        return settings.log_dir / f"{job.package.name}-{job.package.version}-{job.uuid}.log"

    def _summary(
        self,
        job: BuildJob,
        state: str,
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

    def _event(
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


def _all_reused(results: Iterable[JobResult[uuid.UUID]]) -> bool:
    return all(result.outcome is Outcome.REUSED for result in results)
