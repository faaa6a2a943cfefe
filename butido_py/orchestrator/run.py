"""`BuildRun`: one running build, and the loop that runs its jobs.

The plan is recorded (every job `planned`) before the first container starts. A `DagRunner`
feeds ready jobs to worker threads; each computes its job key from its real inputs, is reused
when an earlier job with that key still has its artifacts (reuse.py), or is queued and run on an
endpoint through the scheduling seam (scheduling.py), tried again on another endpoint after an
endpoint failure (attempts.py, endpoint_health.py). Every transition is written as it happens
(ledger.py). `cancel()` (Ctrl-C) starts nothing new, removes the submit's containers and marks
what did not finish `canceled`. When the database stays away past `database_retry_seconds`
(db/retry.py), the run cancels the same way and its submit is settled `failed` once the
database answers again (db/invariant.py).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping

from butido_py.db.coalescing import InFlightJob
from butido_py.db.invariant import Settled
from butido_py.db.retry import DatabaseUnavailableError
from butido_py.endpoint.scheduler import NoEndpointError, SchedulerClosedError
from butido_py.errors import ButidoError, DatabaseError
from butido_py.orchestrator.attempts import JobAttempts
from butido_py.orchestrator.dag_runner import DagRunner, JobResult
from butido_py.orchestrator.db_scheduler import DatabaseScheduler, Reclaim
from butido_py.orchestrator.heap import fix_malloc_thresholds
from butido_py.orchestrator.inputs import InputCollisionError
from butido_py.orchestrator.ledger import JobLedger
from butido_py.orchestrator.local_scheduler import LocalScheduler
from butido_py.orchestrator.model import (
    Artifact,
    BuildJob,
    BuildListener,
    BuildResult,
    JobEventKind,
    PreparedBuild,
)
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.orchestrator.reuse import ReuseDecisions
from butido_py.orchestrator.scheduling import JobScheduler
from butido_py.plan.job_key import key_of_document
from butido_py.states import FailureKind, JobState, SubmitState
from butido_py.stores.staging import unrecorded_files

log = logging.getLogger(__name__)

#: How often a running build records that it is alive (`submits.heartbeat_at`).
HEARTBEAT_SECONDS = 30.0
#: Worker threads beyond the containers that can exist at once (reused jobs need no container).
SPARE_WORKERS = 4
NO_ENDPOINT = (
    "no endpoint left to run it: every endpoint of the build is quarantined after "
    "infrastructure failures (`butido endpoint list` shows them)"
)

Result = JobResult[uuid.UUID]


class BuildRun:
    def __init__(
        self,
        prepared: PreparedBuild,
        recorder: BuildRecorder,
        listener: BuildListener,
        *,
        scheduler: JobScheduler | None = None,
        reclaim: Reclaim | None = None,
    ) -> None:
        """`scheduler`: where and how jobs run (default: endpoint slots as leases in the
        recorder's database, shared with every butido process, and Docker); `reclaim` recovers
        dead builds that hold slots (app/recovery.py), called while jobs wait for one."""
        self.prepared = prepared
        self._recorder = recorder
        self._listener = listener
        self._jobs = {job.uuid: job for job in prepared.jobs}
        self._scheduler = scheduler or DatabaseScheduler(
            prepared.endpoints,
            prepared.submit_uuid,
            recorder.database,
            priority=prepared.settings.priority,
            reclaim=reclaim,
        )
        containers = LocalScheduler.containers(prepared.endpoints)
        self._runner: DagRunner[uuid.UUID] = DagRunner(
            {job.uuid: frozenset(need for need, _ in job.needs) for job in prepared.jobs},
            workers=min(len(prepared.jobs), containers + SPARE_WORKERS),
        )
        self._canceled = threading.Event()
        self._stopped = threading.Event()
        #: Set when the database stayed away past the retry bound (the run then cancels).
        self._database_gone: DatabaseUnavailableError | None = None
        self._ledger = JobLedger(prepared, recorder, listener)
        self._reuse = ReuseDecisions(prepared, recorder)
        self._attempts = JobAttempts(
            prepared, recorder, self._ledger, self._scheduler, self._canceled
        )

    # --- control ------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the run (safe to call from a signal handler: the slow part runs in a thread)."""
        if self._canceled.is_set():
            return
        self._canceled.set()
        self._runner.cancel()
        self._scheduler.cancel()

    def _give_up(self, error: DatabaseUnavailableError) -> None:
        """The database stayed away past the retry bound: start nothing more and stop."""
        log.warning("stopping the build: %s", error)
        self._database_gone = error
        self.cancel()

    @property
    def canceled(self) -> bool:
        return self._canceled.is_set()

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> BuildResult:
        started = time.monotonic()
        fix_malloc_thresholds()
        self._recorder.record_plan(self.prepared)
        self._recorder.database.retry.on_give_up.append(self._give_up)
        self._recorder.start()
        self.prepared.staging_dir.mkdir(parents=True, exist_ok=True)
        self._listener.started(self.prepared)
        threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True).start()
        try:
            self._runner.run(self._execute, self._ledger.heard)
        finally:
            self._stopped.set()
            self._scheduler.close(sweep=not self.prepared.settings.keep_containers)
            self._listener.finished()
        jobs = self._ledger.summaries()
        settled = self._finish(self._final_state(job.state for job in jobs))
        self._raise_database_gone(settled)
        self._check_staging()
        self._raise_write_errors()
        return BuildResult(
            submit_uuid=self.prepared.submit_uuid,
            state=settled.state,
            staging_dir=self.prepared.staging_dir,
            jobs=jobs,
            seconds=time.monotonic() - started,
        )

    def _finish(self, state: SubmitState) -> Settled:
        """The submit's final state, through the invariant; waits for the database."""
        submit = self.prepared.submit_uuid
        try:
            return self._recorder.finish_submit(submit, state)
        except DatabaseUnavailableError as error:
            raise DatabaseError(
                f"submit {submit} could not be finished: {error.message}",
                hint="it stays `running` until the next butido command, once this one has "
                "ended, records it lost (crash recovery, docs/recovery.md)",
            ) from error
        finally:
            self._recorder.stop()

    def _check_staging(self) -> None:
        """The invariant's last part: every file in the submit's staging directory has an
        artifact row. Outputs are staged only once they are accepted, so a stray file is a bug
        (or someone else's file): named, not deleted."""
        submit = self.prepared.submit_uuid
        stray = unrecorded_files(self.prepared.staging_dir, self._recorder.staged_paths(submit))
        if stray:
            shown = ", ".join(stray[:5]) + (f" and {len(stray) - 5} more" if len(stray) > 5 else "")
            log.warning(
                "%d file(s) in the staging directory %s of submit %s have no artifact row: %s",
                len(stray), self.prepared.staging_dir, submit, shown,
            )  # fmt: skip

    def _raise_database_gone(self, settled: Settled) -> None:
        gone = self._database_gone or self._recorder.unavailable
        if gone is None:
            return
        raise DatabaseError(
            f"the build stopped: {gone.message}; submit {self.prepared.submit_uuid} is recorded "
            f"{settled.state} ({settled.jobs_failed} running jobs failed, "
            f"{settled.jobs_canceled} canceled, {self._recorder.dropped} records given up)",
            hint="build again once the database is reachable: finished jobs are reused",
        )

    def _final_state(self, states: Iterable[str]) -> SubmitState:
        if self._database_gone is not None or self._recorder.unavailable is not None:
            return SubmitState.FAILED
        if self._canceled.is_set():
            return SubmitState.CANCELED
        if all(JobState(state).ok for state in states):
            return SubmitState.SUCCEEDED
        return SubmitState.FAILED

    def _raise_write_errors(self) -> None:
        errors = self._recorder.errors
        if errors:
            raise DatabaseError(
                f"{len(errors)} database writes of submit {self.prepared.submit_uuid} failed; "
                f"the first: {errors[0].message}",
                hint=errors[0].hint,
            )

    def _heartbeat(self) -> None:
        while not self._stopped.wait(HEARTBEAT_SECONDS):
            try:
                self._recorder.heartbeat(self.prepared.submit_uuid)
                self._scheduler.heartbeat()
            except ButidoError as error:
                log.warning("heartbeat failed: %s", error)

    # --- one job (worker threads) -------------------------------------------------------------

    def _execute(self, job_uuid: uuid.UUID, needs: Mapping[uuid.UUID, Result]) -> Result:
        job = self._jobs[job_uuid]
        try:
            return self._execute_job(job_uuid, needs)
        except SchedulerClosedError:
            return self._ledger.canceled(job)
        except NoEndpointError:
            return self._ledger.failed(job, FailureKind.INFRA, NO_ENDPOINT)
        except ButidoError as error:
            if self._canceled.is_set():
                return self._ledger.canceled(job)
            # Inputs that collide are what its dependencies made: no endpoint is to blame.
            collided = isinstance(error, InputCollisionError)
            kind = FailureKind.OUTPUTS if collided else FailureKind.INFRA
            return self._ledger.failed(job, kind, str(error))
        except Exception as error:  # a bug in one job must not stop the others
            log.exception("job %s (%s) failed unexpectedly", job.uuid, job.label)
            return self._ledger.failed(job, FailureKind.INFRA, f"{type(error).__name__}: {error}")

    def _execute_job(self, job_uuid: uuid.UUID, needs: Mapping[uuid.UUID, Result]) -> Result:
        """Reused, or queued and run; the DAG runner ran every job it needs already. With
        reuse on, a job another live submit has in flight waits for it (coalescing.py)."""
        job = self._jobs[job_uuid]
        if self._canceled.is_set():
            return self._ledger.canceled(job)
        inputs = self._ledger.inputs_of(job)
        document = self._reuse.document(job, inputs, self._ledger.input_origins(job))
        key = key_of_document(document.key)
        all_reused = all(need.outcome is JobState.REUSED for need in needs.values())
        match = self._reuse.match(job, key, needs_reused=all_reused)
        if match is None and self._reuse.coalesces:
            return self._coalesce(job, key, document.to_json(), inputs)
        self._recorder.set_job_key(job.uuid, key, document.to_json())
        if match is not None:
            return self._ledger.reused(job, match)
        self._ledger.queued(job, inputs)
        return self._attempts.run(job, inputs)

    def _coalesce(
        self, job: BuildJob, key: str, document: str, inputs: tuple[Artifact, ...]
    ) -> Result:
        """Claimed (recorded `queued` with its key) and run, or reused from the job of another
        live submit with the same key, after waiting for it."""

        def waiting(other: InFlightJob) -> None:
            detail = f"job {other.uuid} of submit {other.submit_uuid}"
            self._ledger.event(job, JobEventKind.WAITING, detail=detail)

        match = self._reuse.claim(job, key, document, canceled=self._canceled, on_wait=waiting)
        if self._canceled.is_set():
            return self._ledger.canceled(job)
        if match is not None:
            return self._ledger.reused(job, match)
        self._ledger.queued(job, inputs, claimed=True)
        return self._attempts.run(job, inputs)
