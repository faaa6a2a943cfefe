"""Coalescing (DESIGN.md §8, tag2upload's "we don't do, simultaneously in two jobs, work on the
same object"): a job whose key another live submit has queued or running waits for that job
instead of running, and reuses its outputs when it succeeds.

The claim is one transaction serialized per key across processes (db/coalescing.py): it either
moves the job to `queued` (it runs) or names the job of another running submit that has the key.
The job then waits — in no endpoint slot — polling that job's state every `POLL_SECONDS` (one
indexed read; the same on SQLite and PostgreSQL) until it is final. Succeeded, with its artifacts
all on disk: this job is `reused` from it. Failed, canceled, lost, or its orchestrator is gone
(its process no longer exists on this host, or its heartbeat is older than `heartbeat_timeout`):
the claim is made again without it, so the job runs itself or waits for another one.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from butido_py.db.coalescing import InFlightJob
from butido_py.orchestrator.model import BuildJob, PreparedBuild
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.orchestrator.reuse_match import ReuseMatch
from butido_py.process import pid_alive
from butido_py.states import JobState, SubmitState

log = logging.getLogger(__name__)

#: How often a waiting job reads the state of the job it waits for.
POLL_SECONDS = 0.25
_IN_FLIGHT = frozenset({JobState.QUEUED, JobState.RUNNING})

#: Told when the job starts waiting for another submit's job.
OnWait = Callable[[InFlightJob], None]
#: The outputs of a succeeded job, when its artifacts are all still on disk (else None).
Verify = Callable[[uuid.UUID], ReuseMatch | None]


class Coalescing:
    """The coalescing decisions of one build (thread-safe: each job thread asks for its own)."""

    def __init__(self, prepared: PreparedBuild, recorder: BuildRecorder, verify: Verify) -> None:
        self._recorder = recorder
        self._verify = verify
        self._timeout = timedelta(seconds=prepared.settings.heartbeat_timeout)
        self._host = socket.gethostname()

    def claim(
        self,
        job: BuildJob,
        key: str,
        document: str | None,
        *,
        canceled: threading.Event,
        on_wait: OnWait,
    ) -> ReuseMatch | None:
        """The outputs of another submit's job with this key, once it succeeded; None when this
        job was claimed (recorded `queued` with its key: it runs) or the run was canceled while
        it waited (it is still `planned`)."""
        passed: set[uuid.UUID] = set()
        while not canceled.is_set():
            other = self._recorder.claim(
                job.uuid, key, document, passed=frozenset(passed), usable=self.usable
            )
            if other is None:
                return None
            if other.state in _IN_FLIGHT:
                on_wait(other)
                other = self._wait(other, canceled)
            if other.state is JobState.SUCCEEDED:
                match = self._verify(other.uuid)
                if match is not None:
                    return match
                log.warning("job %s of %s: its artifacts are gone", other.uuid, job.label)
            passed.add(other.uuid)
        return None

    def usable(self, other: InFlightJob, *, now: datetime | None = None) -> bool:
        """Whether `other` can still give this job its outputs: it succeeded, or it is in flight
        in a running submit whose orchestrator lives."""
        if other.state is JobState.SUCCEEDED:
            return True
        if other.state not in _IN_FLIGHT or other.submit_state is not SubmitState.RUNNING:
            return False
        beat = other.heartbeat_at
        if beat is not None and (now or datetime.now(UTC)) - _aware(beat) > self._timeout:
            return False
        host, pid = other.orchestrator_host, other.orchestrator_pid
        return host != self._host or pid is None or pid_alive(pid)

    def _wait(self, other: InFlightJob, canceled: threading.Event) -> InFlightJob:
        """`other` once it is final or no longer usable (as last seen when the run is canceled)."""
        while not canceled.wait(POLL_SECONDS):
            now = self._recorder.in_flight_job(other.uuid)
            if now is None:  # pragma: no cover - jobs are never deleted while their submit runs
                return other
            other = now
            if other.state not in _IN_FLIGHT or not self.usable(other):
                return other
        return other


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; every recorded time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
