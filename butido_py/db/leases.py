"""Endpoint slots as leases in the database, shared by every butido process (DESIGN.md §8).

A job that wants to start its container on an endpoint puts a request into `slot_requests` (the
fair queue) and is granted a lease in `endpoint_leases` when the endpoint has a free slot and
the request is among the first in `grant_order`. Granting is ONE transaction that holds the
endpoint's lock while it counts the live leases and inserts the new one: PostgreSQL locks the
endpoint's row (`SELECT … FOR UPDATE`), SQLite takes the database's write lock first
(`BEGIN IMMEDIATE`), so two processes never both see the last free slot.

The limit: each lease stores its holder's configured `maxjobs`; a grant counts against the
smallest of its own process's value and those of the live leases on the endpoint, so when two
configurations disagree, the smallest wins.

On PostgreSQL every release (and every withdrawn request) sends a NOTIFY on `SLOT_CHANNEL`
with the endpoint's name, so waiting processes wake at once instead of polling.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from butido_py.db.database import Database
from butido_py.db.lookups import get_or_create_endpoint
from butido_py.db.models import ENDPOINT_LEASES, ENDPOINTS, JOBS, SLOT_REQUESTS, SUBMITS
from butido_py.states import SubmitState

log = logging.getLogger(__name__)

#: The PostgreSQL NOTIFY channel: a slot of the endpoint named in the payload came free.
SLOT_CHANNEL = "butido_slots"


@dataclass(frozen=True, slots=True)
class Holder:
    """The orchestrator process that holds or waits for a slot."""

    host: str
    pid: int


@dataclass(frozen=True, slots=True)
class WaitingRequest:
    id: int
    submit_id: int
    priority: int
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class Holding:
    """A submit's live leases (on every endpoint): how many, and when it got its newest."""

    count: int
    last_granted: datetime | None


@dataclass(frozen=True, slots=True)
class SlotRequest:
    """A job's request, once it is in the queue."""

    id: int
    job_id: int
    endpoint_id: int
    endpoint: str


@dataclass(frozen=True, slots=True)
class SlotHolder:
    """A submit holding leases or waiting for them; named like `RunningSubmitRecord` so crash
    recovery's `is_lost` decides about both."""

    submit_id: int
    submit_uuid: uuid.UUID
    running: bool
    orchestrator_host: str
    orchestrator_pid: int
    heartbeat_at: datetime


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    endpoint: str
    submit_uuid: uuid.UUID
    job_uuid: uuid.UUID
    holder_host: str
    holder_pid: int
    maxjobs: int
    acquired_at: datetime


# --- the fair order (pure) ----------------------------------------------------------------------


def grant_order(
    requests: Sequence[WaitingRequest], holdings: Mapping[int, Holding], slots: int
) -> list[WaitingRequest]:
    """The requests the next `slots` free slots go to, in order: the highest priority first;
    among equals round-robin between submits (the submit holding the fewest leases, then the
    one granted longest ago — never granted before all); then the oldest request. Each grant
    counts for its submit before the next slot is given, so one submit cannot take them all."""
    held = {submit: (h.count, _granted(h.last_granted)) for submit, h in holdings.items()}
    pending = list(requests)
    chosen: list[WaitingRequest] = []
    while pending and len(chosen) < slots:

        def rank(request: WaitingRequest) -> tuple[object, ...]:
            count, granted = held.get(request.submit_id, (0, _granted(None)))
            return (-request.priority, count, granted, request.requested_at, request.id)

        best = min(pending, key=rank)
        pending.remove(best)
        chosen.append(best)
        count, _ = held.get(best.submit_id, (0, _granted(None)))
        held[best.submit_id] = (count + 1, (2, None, len(chosen)))
    return chosen


def _granted(when: datetime | None) -> tuple[int, datetime | None, int]:
    """A sort key: never granted first, then real grant times, then grants made in this round."""
    return (0, None, 0) if when is None else (1, when, 0)


# --- transactions ---------------------------------------------------------------------------------


@contextmanager
def _endpoint_locked(db: Database, endpoint_id: int) -> Iterator[Connection]:
    """A transaction holding the endpoint's lock until it ends."""
    with db.begin() as connection:
        if db.dialect == "sqlite":
            # The write lock now, not at the first write: the count read below stays true.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(
                select(ENDPOINTS.c.id).where(ENDPOINTS.c.id == endpoint_id).with_for_update()
            )
        yield connection


def submit_for_slots(db: Database, submit_uuid: uuid.UUID, priority: int) -> int:
    """The id of the recorded submit; records its priority."""
    with db.begin() as connection:
        submit_id: int = connection.execute(
            select(SUBMITS.c.id).where(SUBMITS.c.uuid == submit_uuid)
        ).scalar_one()
        if priority:
            connection.execute(
                update(SUBMITS).where(SUBMITS.c.id == submit_id).values(priority=priority)
            )
    return submit_id


def endpoint_id(db: Database, name: str) -> int:
    return get_or_create_endpoint(db, name).id


def request_slot(
    db: Database,
    *,
    endpoint: tuple[int, str],
    job_uuid: uuid.UUID,
    submit_id: int,
    priority: int,
    holder: Holder,
    at: datetime,
) -> SlotRequest:
    """Queue the job for a slot of `endpoint` (id, name). A job waits for one slot at a time:
    a request of it left by a try whose commit was not acknowledged is replaced (db/retry.py)."""
    with db.begin() as connection:
        job_id: int = connection.execute(
            select(JOBS.c.id).where(JOBS.c.uuid == job_uuid)
        ).scalar_one()
        connection.execute(delete(SLOT_REQUESTS).where(SLOT_REQUESTS.c.job_id == job_id))
        request_id = connection.execute(
            insert(SLOT_REQUESTS)
            .values(
                endpoint_id=endpoint[0],
                job_id=job_id,
                submit_id=submit_id,
                holder_host=holder.host,
                holder_pid=holder.pid,
                heartbeat_at=at,
                priority=priority,
                requested_at=at,
            )
            .returning(SLOT_REQUESTS.c.id)
        ).scalar_one()
    return SlotRequest(request_id, job_id, endpoint[0], endpoint[1])


def try_grant(db: Database, request: SlotRequest, *, maxjobs: int, at: datetime) -> bool:
    """Turn the request into a lease if a slot is free and the fair order gives it to this
    request (one transaction under the endpoint's lock). A read without the lock comes first:
    waiting processes do not queue for the lock while the answer is no."""
    with db.begin() as connection:
        if not _granted_to(connection, request, maxjobs):
            return False
    with _endpoint_locked(db, request.endpoint_id) as connection:
        if not _granted_to(connection, request, maxjobs):
            return False
        row = connection.execute(
            delete(SLOT_REQUESTS)
            .where(SLOT_REQUESTS.c.id == request.id)
            .returning(
                SLOT_REQUESTS.c.submit_id, SLOT_REQUESTS.c.holder_host, SLOT_REQUESTS.c.holder_pid
            )
        ).one()
        connection.execute(
            insert(ENDPOINT_LEASES).values(
                endpoint_id=request.endpoint_id,
                job_id=request.job_id,
                submit_id=row.submit_id,
                holder_host=row.holder_host,
                holder_pid=row.holder_pid,
                heartbeat_at=at,
                maxjobs=maxjobs,
                acquired_at=at,
            )
        )
    return True


def _granted_to(connection: Connection, request: SlotRequest, maxjobs: int) -> bool:
    leases = connection.execute(
        select(
            ENDPOINT_LEASES.c.endpoint_id,
            ENDPOINT_LEASES.c.submit_id,
            ENDPOINT_LEASES.c.maxjobs,
            ENDPOINT_LEASES.c.acquired_at,
        )
    ).all()
    here = [lease for lease in leases if lease.endpoint_id == request.endpoint_id]
    free = min([maxjobs, *(lease.maxjobs for lease in here)]) - len(here)
    if free <= 0:
        return False
    waiting = [
        WaitingRequest(row.id, row.submit_id, row.priority, row.requested_at)
        for row in connection.execute(
            select(
                SLOT_REQUESTS.c.id,
                SLOT_REQUESTS.c.submit_id,
                SLOT_REQUESTS.c.priority,
                SLOT_REQUESTS.c.requested_at,
            ).where(SLOT_REQUESTS.c.endpoint_id == request.endpoint_id)
        )
    ]
    holdings: dict[int, Holding] = {}
    for lease in leases:
        before = holdings.get(lease.submit_id, Holding(0, None))
        last = before.last_granted
        newest = lease.acquired_at if last is None else max(last, lease.acquired_at)
        holdings[lease.submit_id] = Holding(before.count + 1, newest)
    return any(chosen.id == request.id for chosen in grant_order(waiting, holdings, free))


def withdraw(db: Database, request: SlotRequest) -> None:
    """The job stopped waiting (canceled): its place in the queue is given up."""
    with db.begin() as connection:
        connection.execute(delete(SLOT_REQUESTS).where(SLOT_REQUESTS.c.id == request.id))
        _notify(db, connection, request.endpoint)


def release(db: Database, request: SlotRequest) -> None:
    """Give the job's lease back and wake the processes waiting for the endpoint."""
    with db.begin() as connection:
        connection.execute(
            delete(ENDPOINT_LEASES).where(ENDPOINT_LEASES.c.job_id == request.job_id)
        )
        _notify(db, connection, request.endpoint)


def _notify(db: Database, connection: Connection, endpoint: str) -> None:
    if db.dialect == "postgresql":
        connection.execute(select(func.pg_notify(SLOT_CHANNEL, endpoint)))


def refresh(db: Database, submit_id: int, at: datetime) -> None:
    """The holder is alive: its leases and requests are not stale."""
    with db.begin() as connection:
        for table in (ENDPOINT_LEASES, SLOT_REQUESTS):
            connection.execute(
                update(table).where(table.c.submit_id == submit_id).values(heartbeat_at=at)
            )


def drop_submit(db: Database, submit_id: int) -> int:
    """Remove every lease and request of a submit (it ended, or it was recovered `lost`);
    how many leases there were."""
    with db.begin() as connection:
        connection.execute(delete(SLOT_REQUESTS).where(SLOT_REQUESTS.c.submit_id == submit_id))
        dropped = connection.execute(
            delete(ENDPOINT_LEASES).where(ENDPOINT_LEASES.c.submit_id == submit_id)
        ).rowcount
        if dropped:
            _notify_all(db, connection)
    return int(dropped)


def _notify_all(db: Database, connection: Connection) -> None:
    if db.dialect == "postgresql":
        connection.execute(select(func.pg_notify(SLOT_CHANNEL, "")))


def drop_orphans(db: Database) -> int:
    """Remove the leases and requests of submits that are no longer running (left behind by a
    process that ended before it could give them back); how many leases there were."""
    finished = select(SUBMITS.c.id).where(SUBMITS.c.state != SubmitState.RUNNING)
    with db.begin() as connection:
        connection.execute(delete(SLOT_REQUESTS).where(SLOT_REQUESTS.c.submit_id.in_(finished)))
        dropped = connection.execute(
            delete(ENDPOINT_LEASES).where(ENDPOINT_LEASES.c.submit_id.in_(finished))
        ).rowcount
        if dropped:
            _notify_all(db, connection)
    return int(dropped)


def slot_holders(db: Database) -> list[SlotHolder]:
    """Every submit holding a lease or waiting for one, with its oldest heartbeat."""
    holders: dict[int, SlotHolder] = {}
    with db.begin() as connection:
        for table in (ENDPOINT_LEASES, SLOT_REQUESTS):
            rows = connection.execute(
                select(
                    table.c.submit_id,
                    SUBMITS.c.uuid,
                    SUBMITS.c.state,
                    table.c.holder_host,
                    table.c.holder_pid,
                    func.min(table.c.heartbeat_at).label("heartbeat_at"),
                )
                .join(SUBMITS, SUBMITS.c.id == table.c.submit_id)
                .group_by(
                    table.c.submit_id,
                    SUBMITS.c.uuid,
                    SUBMITS.c.state,
                    table.c.holder_host,
                    table.c.holder_pid,
                )
            )
            for row in rows:
                holders.setdefault(
                    row.submit_id,
                    SlotHolder(
                        row.submit_id,
                        row.uuid,
                        row.state == SubmitState.RUNNING,
                        row.holder_host,
                        row.holder_pid,
                        row.heartbeat_at,
                    ),
                )
    return list(holders.values())


def live_leases(db: Database) -> list[LeaseRecord]:
    """Every lease, oldest first (tests, benchmarks, `docs/farm.md`'s query)."""
    with db.begin() as connection:
        rows = connection.execute(
            select(
                ENDPOINTS.c.name,
                SUBMITS.c.uuid.label("submit_uuid"),
                JOBS.c.uuid.label("job_uuid"),
                ENDPOINT_LEASES.c.holder_host,
                ENDPOINT_LEASES.c.holder_pid,
                ENDPOINT_LEASES.c.maxjobs,
                ENDPOINT_LEASES.c.acquired_at,
            )
            .join(ENDPOINTS, ENDPOINTS.c.id == ENDPOINT_LEASES.c.endpoint_id)
            .join(SUBMITS, SUBMITS.c.id == ENDPOINT_LEASES.c.submit_id)
            .join(JOBS, JOBS.c.id == ENDPOINT_LEASES.c.job_id)
            .order_by(ENDPOINT_LEASES.c.id)
        )
        return [LeaseRecord(*row) for row in rows]


class SlotListener:
    """A thread that LISTENs for released slots on its own PostgreSQL connection."""

    def __init__(self, database: Database, wake: Callable[[], None], *, poll: float) -> None:
        """`wake` is called for every notification; `poll`: seconds between looks at `stop`."""
        self._database = database
        self._wake = wake
        self._poll = poll
        self._stopped = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="slot-listener", daemon=True)
        self._thread.start()
        # Listening before the first look at the queue: no release is missed in between.
        self._ready.wait(5)

    def stop(self) -> None:
        self._stopped.set()

    def _listen(self) -> None:
        import psycopg  # noqa: PLC0415 - only PostgreSQL listens

        try:
            raw = self._database.engine.raw_connection()
        except SQLAlchemyError as error:  # the safety-net poll still works
            log.warning("cannot listen for free endpoint slots: %s", error)
            self._ready.set()
            return
        connection = raw.driver_connection
        raw.detach()  # its own connection: never handed back to the pool while listening
        try:
            connection.autocommit = True  # type: ignore[union-attr]
            connection.execute(f"LISTEN {SLOT_CHANNEL}")  # type: ignore[union-attr]
            self._ready.set()
            while not self._stopped.is_set():
                for _ in connection.notifies(timeout=self._poll):  # type: ignore[union-attr]
                    self._wake()
        except (psycopg.Error, OSError) as error:  # the safety-net poll still works
            log.warning("listening for free endpoint slots failed: %s", error)
        finally:
            self._ready.set()
            raw.close()
