"""`DatabaseScheduler`: the `JobScheduler` whose run slots are leases in the database
(db/leases.py), so an endpoint's `maxjobs` holds across every butido process sharing the database.

The Docker part and the container slots are `LocalScheduler`'s: a job still creates its container
and copies its inputs in while others run. Only the step that starts it waits for a lease: the
job joins the fair queue (`slot_requests`) and is granted a lease when the endpoint has a free
slot and the fair order (priority, then round-robin between submits) gives it to this job. The
lease is given back as soon as the container has stopped.

Waiting is no busy loop: a release in this process wakes its waiting jobs at once; on PostgreSQL
a thread LISTENs on `leases.SLOT_CHANNEL` and wakes them when another process releases (with a
slow poll as a safety net); SQLite has no notifications and is polled every `SQLITE_POLL`
seconds, with a read that takes no lock. While a job waits, holders that died are reclaimed
(`reclaim`, crash recovery) at most every `RECLAIM_SECONDS`.

Every call on the database goes through its retry policy (db/retry.py): through an outage a job
waits for its lease (or to give it back) instead of failing; a grant whose commit was not
acknowledged is found among the live leases.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

from butido_py.config.model import EndpointConfig
from butido_py.db import leases
from butido_py.db.database import Database
from butido_py.endpoint.scheduler import SchedulerClosedError
from butido_py.errors import ButidoError
from butido_py.orchestrator.container_run import ContainerHooks, ContainerOutcome, ContainerRun
from butido_py.orchestrator.local_scheduler import LocalScheduler
from butido_py.orchestrator.scheduling import Placement

log = logging.getLogger(__name__)

#: Seconds between two looks at the queue on SQLite (it cannot notify).
SQLITE_POLL = 0.05
#: Seconds between two looks on PostgreSQL when no notification came (a safety net).
NOTIFIED_POLL = 1.0
#: Seconds between two reclaims of dead holders' leases while jobs wait.
RECLAIM_SECONDS = 2.0

Reclaim = Callable[[], object]
T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


class DatabaseScheduler:
    def __init__(
        self,
        endpoints: Sequence[EndpointConfig],
        submit: uuid.UUID,
        database: Database,
        *,
        priority: int = 0,
        reclaim: Reclaim | None = None,
    ) -> None:
        """`reclaim`: recovers the submits of dead lease holders (app/recovery.py); by default
        only the leases of submits that are no longer running are dropped."""
        self._local = LocalScheduler(endpoints, submit, run_slot=self._lease)
        self._db = database
        self._submit = submit
        self._priority = priority
        self._maxjobs = {endpoint.name: endpoint.maxjobs for endpoint in endpoints}
        self._reclaim = reclaim or (lambda: None)
        self._holder = leases.Holder(socket.gethostname(), os.getpid())
        self._lock = threading.Lock()
        self._submit_id: int | None = None
        self._endpoint_ids: dict[str, int] = {}
        self._woken = threading.Condition()
        self._generation = 0
        self._closed = False
        self._reclaiming = threading.Lock()
        self._reclaimed_at = 0.0
        self._listener: leases.SlotListener | None = None

    # --- JobScheduler -----------------------------------------------------------------------------

    def acquire(self, job: uuid.UUID, *, avoid: frozenset[str] = frozenset()) -> Placement:
        return self._local.acquire(job, avoid=avoid)

    def release(self, placement: Placement) -> None:
        self._local.release(placement)

    def run(
        self, placement: Placement, run: ContainerRun, hooks: ContainerHooks
    ) -> ContainerOutcome:
        return self._local.run(placement, run, hooks)

    def take_out(self, endpoint: str) -> None:
        self._local.take_out(endpoint)

    def heartbeat(self) -> None:
        submit_id = self._submit_id
        if submit_id is not None:
            self._retry(lambda: leases.refresh(self._db, submit_id, _now()))

    def cancel(self) -> None:
        with self._woken:
            self._closed = True
            self._woken.notify_all()
        self._local.cancel()

    def close(self, *, sweep: bool) -> None:
        with self._woken:
            self._closed = True
            self._woken.notify_all()
        self._local.close(sweep=sweep)
        if self._listener is not None:
            self._listener.stop()
        submit_id = self._submit_id
        if submit_id is not None:
            try:  # every job gave its lease back; this only covers a failed release
                self._retry(lambda: leases.drop_submit(self._db, submit_id))
            except ButidoError as error:
                log.warning("could not give the endpoint slots back: %s", error)

    # --- the lease ------------------------------------------------------------------------------

    def _retry(self, operation: Callable[[], T]) -> T:
        return self._db.retry.call(operation)

    @contextmanager
    def _lease(self, placement: Placement) -> Iterator[None]:
        """Held while the job's container runs."""
        request = self._wait_for_lease(placement)
        try:
            yield
        finally:
            try:
                self._retry(lambda: leases.release(self._db, request))
            finally:
                self._wake()

    def _wait_for_lease(self, placement: Placement) -> leases.SlotRequest:
        self._start_listening()
        endpoint = (self._endpoint_id(placement.endpoint), placement.endpoint)
        submit_id = self._submit_id_once()
        request = self._retry(
            lambda: leases.request_slot(
                self._db,
                endpoint=endpoint,
                job_uuid=placement.job,
                submit_id=submit_id,
                priority=self._priority,
                holder=self._holder,
                at=_now(),
            )
        )
        maxjobs = self._maxjobs[placement.endpoint]
        try:
            while True:
                seen = self._generation_while_open()
                if self._try_grant(request, placement.job, maxjobs):
                    return request
                self._maybe_reclaim()
                self._sleep(seen)
        except BaseException:
            try:
                self._retry(lambda: leases.withdraw(self._db, request))
            finally:
                self._wake()
            raise

    def _try_grant(self, request: leases.SlotRequest, job: uuid.UUID, maxjobs: int) -> bool:
        tried = False

        def grant() -> bool:
            nonlocal tried
            # A grant whose commit was made but not acknowledged (the connection broke).
            if tried and any(lease.job_uuid == job for lease in leases.live_leases(self._db)):
                return True
            tried = True
            return leases.try_grant(self._db, request, maxjobs=maxjobs, at=_now())

        return self._retry(grant)

    def _generation_while_open(self) -> int:
        with self._woken:
            if self._closed:
                raise SchedulerClosedError
            return self._generation

    def _sleep(self, seen: int) -> None:
        """Until something may have changed: a release here or (PostgreSQL) anywhere."""
        timeout = SQLITE_POLL if self._listener is None else NOTIFIED_POLL
        with self._woken:
            if self._generation == seen and not self._closed:
                self._woken.wait(timeout)

    def _wake(self) -> None:
        with self._woken:
            self._generation += 1
            self._woken.notify_all()

    def _maybe_reclaim(self) -> None:
        if not self._reclaiming.acquire(blocking=False):
            return  # another waiting job of this run is at it
        try:
            if time.monotonic() - self._reclaimed_at < RECLAIM_SECONDS:
                return
            self._reclaimed_at = time.monotonic()
            leases.drop_orphans(self._db)
            self._reclaim()
        except ButidoError as error:
            log.warning("reclaiming the endpoint slots of dead builds failed: %s", error)
        finally:
            self._reclaiming.release()

    def _submit_id_once(self) -> int:
        with self._lock:
            if self._submit_id is None:
                self._submit_id = self._retry(
                    lambda: leases.submit_for_slots(self._db, self._submit, self._priority)
                )
            return self._submit_id

    def _endpoint_id(self, name: str) -> int:
        with self._lock:
            if name not in self._endpoint_ids:
                self._endpoint_ids[name] = self._retry(lambda: leases.endpoint_id(self._db, name))
            return self._endpoint_ids[name]

    def _start_listening(self) -> None:
        if self._db.dialect != "postgresql":
            return
        with self._lock:
            if self._listener is None:
                self._listener = leases.SlotListener(self._db, self._wake, poll=NOTIFIED_POLL)
