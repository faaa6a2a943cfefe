"""What a build writes to the database, as it happens, through the db/ layer.

Job transitions are written by one writer thread, in the order the job threads ask for them, so
that a job never waits for the database on its way from one container to the next (a commit can
cost milliseconds, a chain of jobs pays it on every link). Writes still land within milliseconds:
`butido db jobs` in another terminal shows the live states. Reads (reuse candidates) and the plan
itself are written synchronously; `flush()` waits until every queued write is done.

Every call goes through the database's retry policy (db/retry.py): through an outage the writer
blocks on the failing write and later writes wait behind it, in order; a synchronous read waits
the same way. When the policy gives up, the recorder writes nothing more (a later write could
depend on one that was lost) and the submit is settled at the end (`finish_submit`, through the
invariant of db/invariant.py), once the database answers again.
"""

from __future__ import annotations

import getpass
import logging
import os
import queue
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from butido_py.db import artifacts as db_artifacts
from butido_py.db import attempts as db_attempts
from butido_py.db import coalescing as db_coalescing
from butido_py.db import endpoints as db_endpoints
from butido_py.db import invariant
from butido_py.db import jobs as db_jobs
from butido_py.db import logs as db_logs
from butido_py.db import submits as db_submits
from butido_py.db.database import Database
from butido_py.db.records import (
    ArtifactInput,
    ArtifactRecord,
    EndpointRecord,
    JobEdge,
    JobRecord,
    PlannedJob,
    PlannedSubmit,
)
from butido_py.db.retry import DatabaseUnavailableError
from butido_py.errors import ButidoError, DatabaseError
from butido_py.orchestrator.model import Artifact, PreparedBuild
from butido_py.states import DependencyKind, FailureKind, JobState, SubmitState

log = logging.getLogger(__name__)

T = TypeVar("T")
#: A queued write, and what to do once it is done (or given up).
Task = tuple[Callable[[], None] | None, Callable[[], None] | None]


#: Log chunks (each at most about LOG_FLUSH_BYTES) queued for the writer at once.
LOG_APPENDS_IN_FLIGHT = 4


def now() -> datetime:
    return datetime.now(UTC)


class BuildRecorder:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        #: Log appends waiting for the writer: a job thread that is ahead of the database waits
        #: (the container's output waits in the engine meanwhile) instead of piling up text.
        self._log_slots = threading.BoundedSemaphore(LOG_APPENDS_IN_FLIGHT)
        #: job → the place of its last log chunk (writer thread, or the caller without one).
        self._log_places: dict[uuid.UUID, db_logs.ChunkPlace] = {}
        #: (job, path) → id of the artifacts written for this run's jobs (writer thread only).
        self._artifact_ids: dict[tuple[uuid.UUID, str], int] = {}
        self.errors: list[ButidoError] = []
        #: Set when the database stayed away past the retry bound: later writes are dropped.
        self.unavailable: DatabaseUnavailableError | None = None
        #: Writes dropped since then (the submit is settled from what the database has).
        self.dropped = 0

    # --- synchronous ------------------------------------------------------------------------

    @property
    def database(self) -> Database:
        """The database written to (the endpoint slots' leases live there too)."""
        return self._db

    def _call(self, operation: Callable[[], T]) -> T:
        """`operation()` under the recorder's lock and the database's retry policy."""
        with self._lock:
            return self._db.retry.call(operation)

    def record_plan(self, prepared: PreparedBuild) -> None:
        submit = PlannedSubmit(
            uuid=prepared.submit_uuid,
            submit_time=now(),
            image=prepared.image,
            package_name=prepared.root.name,
            package_version=prepared.root.version,
            commit_hash=prepared.commit,
            env=prepared.cli_env,
            kind=prepared.kind,
            parent_submit_uuid=prepared.parent_submit,
            dirty=prepared.dirty,
            commit_time=datetime.fromtimestamp(prepared.commit_time, UTC),
            triggered_by=_triggered_by(),
            orchestrator_host=socket.gethostname(),
            orchestrator_pid=os.getpid(),
        )
        jobs = [
            PlannedJob(
                uuid=job.uuid,
                package_name=job.package.name,
                package_version=job.package.version,
                image=prepared.image,
                script_text=job.script,
                env=job.env,
                depends_on=tuple(JobEdge(need, DependencyKind(kind)) for need, kind in job.needs),
                image_digest=prepared.image_digest,
            )
            for job in prepared.jobs
        ]
        if self._call(lambda: db_submits.find_submit(self._db, submit.uuid)) is not None:
            raise DatabaseError(
                f"submit {prepared.submit_uuid} is already recorded",
                hint="each build needs a new --staging-dir (its name is the submit uuid); "
                "artifacts of earlier builds are reused anyway",
            )
        tried = False

        def record() -> None:
            nonlocal tried
            # A try whose commit was made but not acknowledged (the connection broke) is done.
            if tried and db_submits.find_submit(self._db, submit.uuid) is not None:
                return
            tried = True
            db_submits.record_plan(self._db, submit, jobs)

        self._call(record)

    def reuse_candidates(self, name: str, version: str, key: str) -> list[JobRecord]:
        """Earlier succeeded jobs of this package with this key, newest first."""
        found = self._call(lambda: db_jobs.find_reusable_jobs(self._db, key))
        # The key covers name and version; checking them again costs nothing.
        return [j for j in found if j.package_name == name and j.package_version == version]

    def job(self, job_uuid: uuid.UUID) -> JobRecord | None:
        return self._call(lambda: db_jobs.find_job(self._db, job_uuid))

    def claim(
        self,
        job: uuid.UUID,
        key: str,
        document: str | None,
        *,
        passed: frozenset[uuid.UUID],
        usable: Callable[[db_coalescing.InFlightJob], bool],
    ) -> db_coalescing.InFlightJob | None:
        """Write the job's key and move it to `queued` at once (None), unless another running
        submit shares the key (that job is returned; see db/coalescing.py). The writes asked for
        before land first, so the database sees the transitions in the order they were made."""
        self.flush()
        return self._call(
            lambda: db_coalescing.claim_job_key(
                self._db, job, key, document, at=now(), passed=passed, usable=usable
            )
        )

    def in_flight_job(self, job: uuid.UUID) -> db_coalescing.InFlightJob | None:
        return self._call(lambda: db_coalescing.in_flight_job(self._db, job))

    def artifacts_of(self, job_id: int) -> list[ArtifactRecord]:
        return self._call(lambda: db_artifacts.artifacts_of_jobs(self._db, [job_id])[job_id])

    def staged_paths(self, submit: uuid.UUID) -> list[str]:
        """Every path of the submit's staging directory that has an artifact row."""
        return self._call(lambda: db_artifacts.paths_of_submit(self._db, submit))

    def finish_submit(self, submit: uuid.UUID, state: SubmitState) -> invariant.Settled:
        """Record the submit's final state, derived from its jobs as recorded (db/invariant.py):
        after an outage the jobs whose records were lost are closed and the submit fails. Waits
        for the database the whole retry bound again (`patient`)."""
        self.flush()
        if self.unavailable is not None and state is not SubmitState.CANCELED:
            state = SubmitState.FAILED
        tried = False

        def settle() -> invariant.Settled:
            nonlocal tried
            if tried:  # an earlier try's commit may have gone through unacknowledged
                found = db_submits.find_submit(self._db, submit)
                if found is not None and found.state != SubmitState.RUNNING:
                    return invariant.Settled(state=SubmitState(found.state))
            tried = True
            return invariant.settle_submit(self._db, submit, state, at=now())

        with self._lock:
            return self._db.retry.call(settle, patient=True)

    def endpoint_failed(self, name: str, *, after: int, seconds: int) -> EndpointRecord:
        """One more infrastructure failure of endpoint `name` (written at once: the caller
        learns whether it is quarantined now), after the writes asked for before it (a success
        of the endpoint must not reset the count after this failure). The one write that is
        not idempotent: made again after a lost acknowledgement it counts the failure twice (no
        row tells one try from another); at worst the endpoint is quarantined one failure early."""
        self.flush()
        return self._call(
            lambda: db_endpoints.record_endpoint_failure(
                self._db, name, at=now(), quarantine_after=after, quarantine_seconds=seconds
            )
        )

    def heartbeat(self, submit: uuid.UUID) -> None:
        self._write(lambda: db_submits.record_heartbeat(self._db, submit, at=now()))

    # --- the writer ---------------------------------------------------------------------------

    def start(self) -> None:
        self._writer = threading.Thread(target=self._write_loop, name="recorder", daemon=True)
        self._writer.start()

    def flush(self) -> None:
        """Wait until every write asked for so far is done."""
        if self._writer is None or not self._writer.is_alive():
            return
        done = threading.Event()
        self._queue.put((None, done.set))  # never dropped
        done.wait()

    def stop(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            self._queue.put(None)
            self._writer.join()

    def _write(self, write: Callable[[], None], *, then: Callable[[], None] | None = None) -> None:
        """Queue `write` (retried as a whole by `_run`); `then` runs once after it, whatever
        happened (it gives a log slot back)."""
        if self._writer is None:
            self._run(write, then)
        else:
            self._queue.put((write, then))

    def _move(
        self,
        job: uuid.UUID,
        target: JobState,
        write: Callable[[], None],
        *,
        attempt: int | None = None,
    ) -> None:
        """A job transition, queued; a retry after a commit that was made but not acknowledged
        (the connection broke) finds the job in `target` and is done."""

        def committed() -> bool:
            found = db_jobs.find_job(self._db, job)
            if found is None or found.state != target:
                return False
            return attempt is None or found.attempt == attempt

        self._write(_replayable(write, committed))

    def _write_loop(self) -> None:
        while (task := self._queue.get()) is not None:
            self._run(*task)

    def _run(
        self, write: Callable[[], None] | None, then: Callable[[], None] | None = None
    ) -> None:
        try:
            if write is not None:
                self._run_write(write)
        finally:
            if then is not None:
                then()

    def _run_write(self, write: Callable[[], None]) -> None:
        if self.unavailable is not None:
            self.dropped += 1
            return
        try:
            self._call(write)
        except DatabaseUnavailableError as error:
            log.warning("recording stopped: %s", error)
            self.unavailable = error
            self.dropped += 1
        except ButidoError as error:
            log.warning("recording failed: %s", error)
            self.errors.append(error)
        except Exception as error:  # the writer thread must outlive any bug
            log.exception("recording failed")
            self.errors.append(DatabaseError(f"recording failed: {error!r}"))

    # --- job transitions (asynchronous, in order) -----------------------------------------------

    def set_job_key(self, job: uuid.UUID, key: str, document: str | None = None) -> None:
        # The key is known only once the job's inputs are.
        self._write(lambda: db_jobs.set_job_key(self._db, job, key, document))

    def queued(self, job: uuid.UUID) -> None:
        at = now()
        self._move(job, JobState.QUEUED, lambda: db_jobs.mark_queued(self._db, job, at=at))

    def inputs(self, job: uuid.UUID, artifacts: Sequence[Artifact]) -> None:
        wanted = tuple(artifacts)

        def write() -> None:
            missing = [a.path for a in wanted if a.id is None and not self._recorded(job, a)]
            if missing:  # the write of the job that made them failed (recorded in `errors`)
                raise DatabaseError(
                    f"the inputs of job {job} were not recorded: {len(missing)} artifacts "
                    f"have no row (the first: {missing[0]})"
                )
            ids = [
                a.id if a.id is not None else self._artifact_ids[(a.made_by or job, a.path)]
                for a in wanted
            ]
            db_artifacts.record_job_inputs(self._db, job, ids)

        def committed() -> bool:  # rows of an earlier try whose commit was not acknowledged
            return bool(db_artifacts.input_artifacts(self._db, job))

        self._write(_replayable(write, committed))

    def _recorded(self, job: uuid.UUID, artifact: Artifact) -> bool:
        return (artifact.made_by or job, artifact.path) in self._artifact_ids

    def running(
        self, job: uuid.UUID, *, endpoint: str, container: str | None, image_digest: str | None
    ) -> None:
        at = now()
        self._move(
            job,
            JobState.RUNNING,
            lambda: db_jobs.mark_running(
                self._db,
                job,
                endpoint=endpoint,
                at=at,
                container_hash=container,
                image_digest=image_digest,
            ),
        )

    def append_log(self, job: uuid.UUID, data: bytes) -> None:
        """More of the job's output, byte for byte: one chunk of its current attempt's log.

        The chunk's place (attempt, number) is fixed at the first try and kept by every retry:
        a retry after a commit that went through unacknowledged finds the chunk there and is
        done. A place given up on leaves a gap in the numbers, which readers skip."""
        place: db_logs.ChunkPlace | None = None

        def append() -> None:
            nonlocal place
            if place is None:
                place = db_logs.next_chunk_place(self._db, job, self._log_places.get(job))
                self._log_places[job] = place
            db_logs.store_chunk(self._db, place, data)

        # Wait for a slot while the writer runs; without a writer (none yet, or stopped
        # meanwhile: nobody would release a slot) the append is made here.
        while self._writer is not None and self._writer.is_alive():
            if self._log_slots.acquire(timeout=1.0):
                self._write(append, then=self._log_slots.release)
                return
        self._run(append)

    def succeeded(
        self,
        job: uuid.UUID,
        *,
        exit_code: int,
        artifacts: Sequence[ArtifactInput],
        at: datetime | None = None,
    ) -> None:
        """The log was appended while the job ran (`append_log`). `at`: when the container
        stopped (default now); its outputs may have been copied out after that."""
        finished = at or now()
        made = tuple(artifacts)

        def record(records: list[ArtifactRecord]) -> None:
            for artifact in records:
                self._artifact_ids[(job, artifact.path)] = artifact.id

        def committed() -> bool:  # an earlier try's commit was not acknowledged
            found = db_jobs.find_job(self._db, job)
            if found is None:
                return False
            rows = db_artifacts.artifacts_of_jobs(self._db, [found.id])[found.id]
            record(rows)
            return bool(rows)

        # Two writes, each retried on its own: a retry never records the artifacts twice.
        self._write(
            _replayable(
                lambda: record(db_artifacts.record_artifacts(self._db, job, made)), committed
            )
        )
        self._move(
            job,
            JobState.SUCCEEDED,
            lambda: db_jobs.mark_succeeded(self._db, job, at=finished, exit_code=exit_code),
        )

    def failed(
        self,
        job: uuid.UUID,
        *,
        kind: FailureKind,
        exit_code: int | None,
        log_text: str | None,
        at: datetime | None = None,
    ) -> None:
        finished = at or now()
        self._move(
            job,
            JobState.FAILED,
            lambda: db_jobs.mark_failed(
                self._db,
                job,
                at=finished,
                failure_kind=kind,
                exit_code=exit_code,
                log_text=log_text,
            ),
        )

    def attempt_started(self, job: uuid.UUID, *, attempt: int, endpoint: str) -> None:
        at = now()
        self._write(
            lambda: db_attempts.start_attempt(
                self._db, job, attempt=attempt, endpoint=endpoint, at=at
            )
        )

    def attempt_finished(
        self,
        job: uuid.UUID,
        *,
        attempt: int,
        container: str | None,
        kind: FailureKind | None,
        error: str | None,
    ) -> None:
        at = now()
        self._write(
            lambda: db_attempts.finish_attempt(
                self._db,
                job,
                attempt=attempt,
                at=at,
                container_hash=container,
                failure_kind=kind,
                error=error,
            )
        )

    def retried(self, job: uuid.UUID, *, attempt: int) -> None:
        """The job is queued again for attempt number `attempt` (after an endpoint failure)."""
        at = now()
        self._move(
            job,
            JobState.QUEUED,
            lambda: db_jobs.mark_retried(self._db, job, attempt=attempt, at=at),
            attempt=attempt,
        )

    def endpoint_succeeded(self, name: str) -> None:
        self._write(lambda: db_endpoints.record_endpoint_success(self._db, name))

    def reused(self, job: uuid.UUID, *, source: uuid.UUID) -> None:
        at = now()
        self._move(
            job,
            JobState.REUSED,
            lambda: db_jobs.mark_reused(self._db, job, reused_from=source, at=at),
        )

    def dep_failed(self, job: uuid.UUID) -> None:
        at = now()
        self._move(job, JobState.DEP_FAILED, lambda: db_jobs.mark_dep_failed(self._db, job, at=at))

    def canceled(self, job: uuid.UUID) -> None:
        at = now()
        self._move(job, JobState.CANCELED, lambda: db_jobs.mark_canceled(self._db, job, at=at))


def _replayable(write: Callable[[], None], committed: Callable[[], bool]) -> Callable[[], None]:
    """`write`, which the retry policy may call again: from the second call on it first asks
    `committed()` whether an earlier call's commit went through after all."""
    tried = False

    def run() -> None:
        nonlocal tried
        if tried and committed():
            return
        tried = True
        write()

    return run


def _triggered_by() -> str:
    ci_job = os.environ.get("CI_JOB_URL") or os.environ.get("GITHUB_RUN_ID")
    if ci_job:
        return ci_job
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
