"""The live log of a running job: server-sent events with the log text the database has gained.

The stream polls `data.job_log` (the one read of logs) every `POLL_SECONDS`, sends what was
appended since the offset the page already shows (an `append` event, its text as JSON), and ends
with a `done` event carrying the final state once the job is finished. A browser that reconnects
sends the offset it reached (`Last-Event-ID` is the offset too), so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from butido_py.db.database import Database
from butido_py.web import data

POLL_SECONDS = 1.0
#: A comment line this often keeps proxies from closing a quiet stream.
KEEPALIVE_POLLS = 15


def log_events(db: Database, job_uuid: uuid.UUID, offset: int) -> StreamingResponse:
    return StreamingResponse(
        _events(db, job_uuid, offset),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def event(name: str, payload: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(payload)}\n\n"


async def _events(db: Database, job_uuid: uuid.UUID, offset: int) -> AsyncIterator[str]:
    quiet = 0
    while True:
        record = await run_in_threadpool(data.job_log, db, job_uuid)
        if record is None:
            yield event("done", {"state": None})
            return
        stored = record.data  # offsets count bytes: the page's log started at one
        if len(stored) > offset:
            new = stored[offset:].decode("utf-8", errors="replace")
            yield event("append", {"text": new}, event_id=len(stored))
            offset, quiet = len(stored), 0
        if record.state.finished:
            yield event("done", {"state": record.state.value})
            return
        quiet += 1
        if quiet >= KEEPALIVE_POLLS:
            yield ": keep-alive\n\n"
            quiet = 0
        await asyncio.sleep(POLL_SECONDS)
