"""Job logs: appended in chunks as they arrive, read (and followed) through one function.

A running job's output is stored byte for byte in `log_chunks`, one row per flushed chunk,
numbered per attempt (`seq` 0, 1, 2, …): an append is one INSERT, never a rewrite of the log, so
neither the database nor butido holds a whole log, and any process can follow a job by reading
the rows after the last one it saw. The writer numbers a chunk before it writes it and the insert
keeps a chunk already at that number, so an append retried through an outage is stored once.
On PostgreSQL every insert also NOTIFYs the job's channel, so a follower wakes at once (as on
a job's state change, db/notify.py); on SQLite it polls. Logs recorded before revision 0005 (and
logs of adopted butido databases) are in `jobs.log_text`: `read_log` falls back to it when the
attempt has no chunk (docs/database.md, "Logs").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, func, select

from butido_py.db.database import Database
from butido_py.db.lookups import insert_ignoring_conflicts
from butido_py.db.models import JOBS, LOG_CHUNKS
from butido_py.db.notify import STATE_CHANNEL, log_channel, notify, waiter
from butido_py.errors import DatabaseError
from butido_py.states import JobState

#: Chunks read per query: bounded memory however long the log is.
READ_BATCH: Final = 8
#: Seconds between two looks at a followed job on SQLite ...
POLL_SECONDS: Final = 0.3
#: ... and on PostgreSQL, where a stored chunk and a state change wake the follower at once
#: (db/notify.py): a look now and then for the writes that do not notify.
NOTIFIED_POLL_SECONDS: Final = 2.0


@dataclass(frozen=True, slots=True)
class LogHead:
    """What a reader needs to know about a job before reading its log."""

    job_id: int
    job_uuid: uuid.UUID
    state: JobState
    #: The job's current attempt (1 for the first try).
    attempt: int


@dataclass(frozen=True, slots=True)
class LogPiece:
    """Bytes of the log of one attempt, in order."""

    attempt: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ChunkPlace:
    """Where a chunk of a job's log goes: the job, its attempt and the chunk's number in it."""

    job_id: int
    attempt: int
    seq: int


def next_chunk_place(
    db: Database, job_uuid: uuid.UUID, last: ChunkPlace | None = None
) -> ChunkPlace:
    """Where the job's next chunk goes: in its current attempt, after `last` (the writer's own
    previous chunk of the job) while the job is still in that attempt, else after the attempt's
    last stored chunk."""
    with db.begin() as connection:
        row = connection.execute(
            select(JOBS.c.id, JOBS.c.attempt).where(JOBS.c.uuid == job_uuid)
        ).one_or_none()
        if row is None:
            raise DatabaseError(f"job {job_uuid} does not exist")
        if last is not None and (last.job_id, last.attempt) == (row.id, row.attempt):
            return ChunkPlace(row.id, row.attempt, last.seq + 1)
        stored = connection.execute(
            select(func.max(LOG_CHUNKS.c.seq)).where(
                LOG_CHUNKS.c.job_id == row.id, LOG_CHUNKS.c.attempt == row.attempt
            )
        ).scalar_one()
        return ChunkPlace(row.id, row.attempt, 0 if stored is None else stored + 1)


def store_chunk(db: Database, place: ChunkPlace, data: bytes) -> bool:
    """Store `data` as the chunk at `place` (one INSERT, one transaction); False when a chunk is
    there already and was kept: the write is idempotent, so a retry of an append whose commit
    went through but was not acknowledged does not store the chunk twice."""
    if not data:
        return False
    values = {"job_id": place.job_id, "attempt": place.attempt, "seq": place.seq, "bytes": data}
    with db.begin() as connection:
        insert = insert_ignoring_conflicts(connection, LOG_CHUNKS).values(**values)
        # RETURNING, not rowcount: psycopg's rowcount is -1 here.
        stored = connection.execute(insert.returning(LOG_CHUNKS.c.seq)).first() is not None
        if stored:
            notify(connection, log_channel(place.job_id))
    return stored


def append_chunk(db: Database, job_uuid: uuid.UUID, data: bytes) -> None:
    """Append `data` to the log of the job's current attempt. Not idempotent (a retry may store
    it twice): a writer that retries numbers its chunks (`next_chunk_place`, `store_chunk`)."""
    if data:
        store_chunk(db, next_chunk_place(db, job_uuid), data)


def log_head(db: Database, job_uuid: uuid.UUID) -> LogHead | None:
    with db.begin() as connection:
        return _head(connection, job_uuid)


def _head(connection: Connection, job_uuid: uuid.UUID) -> LogHead | None:
    row = connection.execute(
        select(JOBS.c.id, JOBS.c.state, JOBS.c.attempt).where(JOBS.c.uuid == job_uuid)
    ).one_or_none()
    return None if row is None else LogHead(row.id, job_uuid, JobState(row.state), row.attempt)


def chunks_after(
    db: Database, job_id: int, attempt: int, after: int, *, limit: int = READ_BATCH
) -> list[tuple[int, bytes]]:
    """(seq, bytes) of up to `limit` chunks of one attempt after chunk number `after`."""
    with db.begin() as connection:
        rows = connection.execute(
            select(LOG_CHUNKS.c.seq, LOG_CHUNKS.c.bytes)
            .where(
                LOG_CHUNKS.c.job_id == job_id,
                LOG_CHUNKS.c.attempt == attempt,
                LOG_CHUNKS.c.seq > after,
            )
            .order_by(LOG_CHUNKS.c.seq)
            .limit(limit)
        )
        return [(row.seq, bytes(row.bytes)) for row in rows]


def attempts_with_log(db: Database, job_id: int) -> list[int]:
    """The attempts of a job that stored any of their log, in order."""
    with db.begin() as connection:
        return list(
            connection.execute(
                select(LOG_CHUNKS.c.attempt)
                .where(LOG_CHUNKS.c.job_id == job_id)
                .group_by(LOG_CHUNKS.c.attempt)
                .order_by(LOG_CHUNKS.c.attempt)
            ).scalars()
        )


def _legacy_text(db: Database, job_id: int) -> bytes:
    with db.begin() as connection:
        value = connection.execute(
            select(JOBS.c.log_text).where(JOBS.c.id == job_id)
        ).scalar_one_or_none()
    return value.encode() if value else b""


def read_log(db: Database, head: LogHead, attempt: int | None = None) -> Iterator[bytes]:
    """THE way to read a job's log: the stored bytes of one attempt (default: the current one),
    in bounded batches. A log recorded before log_chunks existed comes from `jobs.log_text`."""
    wanted = head.attempt if attempt is None else attempt
    after = -1
    while batch := chunks_after(db, head.job_id, wanted, after):
        for seq, data in batch:
            yield data
            after = seq
    if after == -1 and wanted == head.attempt:
        legacy = _legacy_text(db, head.job_id)
        if legacy:
            yield legacy


def read_log_bytes(db: Database, job_uuid: uuid.UUID, attempt: int | None = None) -> bytes | None:
    """The whole log of an attempt at once (None: no such job), for small logs and tests."""
    head = log_head(db, job_uuid)
    return None if head is None else b"".join(read_log(db, head, attempt))


def follow_log(db: Database, head: LogHead, attempt: int | None = None) -> Iterator[LogPiece]:
    """The stored log, then new chunks as any process appends them, until the job is final.

    Without `attempt`, a retried job is followed into its next attempt. Ends once the job is in
    a final state (or the followed attempt is over) and every chunk written before that was
    yielded: the writer stores a job's chunks before its final transition, so the state is
    read first and the chunks after it."""
    wanted = head.attempt if attempt is None else attempt
    after = -1
    with waiter(db, [log_channel(head.job_id), STATE_CHANNEL]) as wait:
        while True:
            latest = log_head(db, head.job_uuid)
            if latest is None:
                raise DatabaseError(f"job {head.job_uuid} does not exist any more")
            while batch := chunks_after(db, head.job_id, wanted, after):
                for seq, data in batch:
                    yield LogPiece(wanted, data)
                    after = seq
            if latest.attempt > wanted and attempt is None:
                wanted, after = latest.attempt, -1  # retried: on to the next attempt
            elif latest.state.finished or latest.attempt > wanted:
                if after == -1 and wanted == latest.attempt:
                    yield from (LogPiece(wanted, d) for d in [_legacy_text(db, head.job_id)] if d)
                return
            else:
                wait(NOTIFIED_POLL_SECONDS if db.dialect == "postgresql" else POLL_SECONDS)
