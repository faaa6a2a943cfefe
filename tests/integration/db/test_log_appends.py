"""A job's log appended through the recorder's retry policy, on SQLite and PostgreSQL: an append
retried after a commit that went through unacknowledged stores its chunk once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from butido_py.db import jobs, logs
from butido_py.db.database import Database
from butido_py.db.retry import DatabaseUnavailableError
from butido_py.orchestrator.recording import BuildRecorder
from tests.helpers.seed import jid, seed

#: The running job of the seed, with two chunks stored (0 and 1).
RUNNING = jid(9)
STORED = b"#BUTIDO:PHASE:configure\nchecking for gcc... yes\n"


def test_a_chunk_stored_again_at_its_place_is_kept_once(db: Database) -> None:
    seed(db)
    place = logs.next_chunk_place(db, RUNNING)
    assert place.seq == 2
    assert logs.store_chunk(db, place, b"make\n")
    assert not logs.store_chunk(db, place, b"make\n")  # the replay
    assert logs.read_log_bytes(db, RUNNING) == STORED + b"make\n"
    # The writer's own last place saves the look-up, within the same attempt only.
    assert logs.next_chunk_place(db, RUNNING, place) == logs.ChunkPlace(place.job_id, 1, 3)
    jobs.mark_retried(db, RUNNING, attempt=2, at=datetime.now(UTC))
    assert logs.next_chunk_place(db, RUNNING, place) == logs.ChunkPlace(place.job_id, 2, 0)


def test_an_append_whose_acknowledgement_was_lost_is_not_stored_twice(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db)
    db.retry.first_delay = 0.01
    real = logs.store_chunk
    lost: list[logs.ChunkPlace] = []

    def store_then_lose_the_answer(db: Database, place: logs.ChunkPlace, data: bytes) -> bool:
        stored = real(db, place, data)
        if data == b"b\n" and not lost:  # committed, then the connection broke
            lost.append(place)
            raise DatabaseUnavailableError("connection lost")
        return stored

    monkeypatch.setattr(logs, "store_chunk", store_then_lose_the_answer)
    recorder = BuildRecorder(db)
    recorder.start()
    try:
        for line in (b"a\n", b"b\n", b"c\n"):
            recorder.append_log(RUNNING, line)
        recorder.flush()
    finally:
        recorder.stop()
    assert lost  # the append was retried
    assert (recorder.errors, recorder.unavailable) == ([], None)
    assert logs.read_log_bytes(db, RUNNING) == STORED + b"a\nb\nc\n"
