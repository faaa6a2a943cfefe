"""`JobAttempts`: a queued job's tries on the endpoints, until one ran it (whatever its script
did) or none may try again (failover: endpoint_health.py)."""

from __future__ import annotations

import errno
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from butido_py.endpoint.docker_job import ContainerSpec
from butido_py.endpoint.scheduler import SchedulerClosedError
from butido_py.errors import StoreError
from butido_py.logproto import LogRecord, RecordKind
from butido_py.orchestrator.container_run import (
    ContainerHooks,
    ContainerOutcome,
    ContainerRun,
    container_inputs,
    container_name,
)
from butido_py.orchestrator.dag_runner import JobResult
from butido_py.orchestrator.endpoint_health import EndpointHealth
from butido_py.orchestrator.ledger import JobLedger
from butido_py.orchestrator.model import Artifact, BuildJob, JobEventKind, PreparedBuild
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.orchestrator.scheduling import JobScheduler, Placement
from butido_py.states import FailureKind

log = logging.getLogger(__name__)

#: errno values that mean the log directory's file system has no room left.
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class JobAttempts:
    def __init__(
        self,
        prepared: PreparedBuild,
        recorder: BuildRecorder,
        ledger: JobLedger,
        scheduler: JobScheduler,
        canceled: threading.Event,
    ) -> None:
        self._prepared = prepared
        self._recorder = recorder
        self._ledger = ledger
        self._scheduler = scheduler
        self._health = EndpointHealth(recorder, prepared.settings, scheduler.take_out)
        self._canceled = canceled

    def run(self, job: BuildJob, inputs: tuple[Artifact, ...]) -> JobResult[uuid.UUID]:
        """Try the job until it ran, retrying on another endpoint (when there is one) after
        endpoint failures, at most `job_attempts` times."""
        failed_on: set[str] = set()
        attempt = 1
        while True:
            placement = self._scheduler.acquire(job.uuid, avoid=frozenset(failed_on))
            try:
                if self._canceled.is_set():
                    return self._ledger.canceled(job)
                self._ledger.attempt(job, placement.endpoint, attempt)
                started = time.monotonic()
                outcome = self._run_on(job, placement, inputs)
                if not self._retry(job, placement.endpoint, outcome, attempt, started):
                    if self._canceled.is_set() and not outcome.ok:
                        return self._ledger.canceled(job)
                    return self._ledger.concluded(job, placement.endpoint, outcome)
            finally:
                self._scheduler.release(placement)
            failed_on.add(placement.endpoint)
            attempt += 1

    def _retry(
        self,
        job: BuildJob,
        endpoint: str,
        outcome: ContainerOutcome,
        attempt: int,
        started: float,
    ) -> bool:
        """Record how the attempt ended (it `started` at that time.monotonic) and the endpoint's
        health; whether to try again."""
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
            self._health.worked(endpoint)
            return False
        self._health.broke(endpoint, started=started)
        if not self._health.may_retry(attempt):
            return False
        log.warning(
            "%s: attempt %d of %d on endpoint %s failed (%s); retrying on another endpoint",
            job.label,
            attempt,
            self._prepared.settings.job_attempts,
            endpoint,
            error,
        )
        self._ledger.retrying(job, endpoint, attempt + 1, str(error))
        log_path = self._log_path(job)
        if log_path is not None:
            log_path.unlink(missing_ok=True)  # the next attempt writes the job's log anew
        return True

    def _run_on(
        self, job: BuildJob, placement: Placement, inputs: tuple[Artifact, ...]
    ) -> ContainerOutcome:
        endpoint = placement.endpoint
        hooks = ContainerHooks(
            # Either cancel() sees the container (the scheduler registered it) or this the flag.
            created=lambda _container: not self._canceled.is_set(),
            record=lambda record: self._log_record(job, endpoint, record),
            log_bytes=lambda data: self._recorder.append_log(job.uuid, data),
            running=lambda container: self._running(job, endpoint, container),
        )
        try:
            return self._scheduler.run(placement, self._container_run(job, endpoint, inputs), hooks)
        except OSError as error:  # the --write-log file
            # Kind `outputs`, like staging that is full or not writable: the build's own disk
            # failed, not the endpoint (`infra` would blame it and try another one).
            return ContainerOutcome(
                error=log_write_failed(job, self._log_path(job), error),
                failure_kind=FailureKind.OUTPUTS,
            )

    def _container_run(
        self, job: BuildJob, endpoint_name: str, inputs: tuple[Artifact, ...]
    ) -> ContainerRun:
        prepared = self._prepared
        endpoint = next(e for e in prepared.endpoints if e.name == endpoint_name)
        spec = ContainerSpec(
            image=prepared.image,
            name=container_name(job),
            labels={
                "butido.submit": str(prepared.submit_uuid),
                "butido.job": str(job.uuid),
                "butido.package": job.package.name,
                "butido.version": job.package.version,
            },
            environment=job.env,
            network_mode=endpoint.network_mode,
            inputs=container_inputs(job, inputs, prepared.patch_contents),
        )
        return ContainerRun(
            endpoint,
            spec,
            staging_dir=prepared.staging_dir,
            job=job.uuid,
            keep=prepared.settings.keep_containers,
            tail=prepared.settings.build_error_lines,
            log_path=self._log_path(job),
            timeout=prepared.settings.job_timeouts.get(job.package.key),
            max_log_size=prepared.settings.max_log_size,
            max_output_size=prepared.settings.max_output_size,
        )

    @contextmanager
    def _running(self, job: BuildJob, endpoint: str, container: str) -> Iterator[None]:
        """Entered once the endpoint may run the container: the job is `running` from here."""
        if self._canceled.is_set():
            raise SchedulerClosedError
        self._ledger.started(job, endpoint, container)
        yield

    def _log_record(self, job: BuildJob, endpoint: str, record: LogRecord) -> None:
        if record.kind is RecordKind.PHASE:
            self._ledger.event(job, JobEventKind.PHASE, endpoint=endpoint, phase=record.value)
        elif record.kind is RecordKind.PROGRESS:
            self._ledger.event(
                job, JobEventKind.PROGRESS, endpoint=endpoint, progress=record.progress
            )

    def _log_path(self, job: BuildJob) -> Path | None:
        settings = self._prepared.settings
        if not settings.write_log or settings.log_dir is None:
            return None
        # butido's name; a `/` of the image (registry/name) would be a directory: `_` instead.
        image = self._prepared.image.replace("/", "_")
        name = f"{job.package.name}-{job.package.version}-{image}-{job.uuid}.log"
        return settings.log_dir / name


def log_write_failed(job: BuildJob, path: Path | None, error: OSError) -> StoreError:
    """The `--write-log` file of `job` could not be written: one line naming the file."""
    where = path.parent if path is not None else "the log directory"
    if error.errno in _FULL:
        return StoreError(
            f"job {job.label}: log directory is full: no space left in {where} for its "
            "log (--write-log)",
            hint="free space in the log directory (or point `log_dir` in config.toml to a "
            "bigger disk) and build again; the log is in the database too (butido db log-of)",
        )
    return StoreError(
        f"job {job.label}: cannot write its log {path} (--write-log): {error.strerror or error}",
        hint="check that the log directory (`log_dir`) is writable by this user, or build "
        "without --write-log",
    )
