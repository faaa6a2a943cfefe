"""Chrome trace recording (`butido --tracing-chrome`) for chrome://tracing and Perfetto.

Code marks interesting work with `with span("name", key=value):`. Spans cost next to nothing when
tracing is off; when on, each becomes a "complete" event (ph = "X") with microsecond timestamps.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class _Recorder:
    def __init__(self) -> None:
        self.enabled = False
        self.events: list[dict[str, object]] = []
        self.lock = threading.Lock()
        self.origin = time.perf_counter()

    def add(self, name: str, started: float, ended: float, args: dict[str, object]) -> None:
        event: dict[str, object] = {
            "name": name,
            "ph": "X",
            "ts": round((started - self.origin) * 1e6, 1),
            "dur": round((ended - started) * 1e6, 1),
            "pid": os.getpid(),
            "tid": threading.get_ident(),
            "args": {key: str(value) for key, value in args.items()},
        }
        with self.lock:
            self.events.append(event)


_recorder = _Recorder()


def enable() -> None:
    _recorder.enabled = True


def is_enabled() -> bool:
    return _recorder.enabled


@contextmanager
def span(name: str, **args: object) -> Iterator[None]:
    # Enabled is checked at the end: the outermost span starts before the flag is parsed.
    started = time.perf_counter()
    try:
        yield
    finally:
        if _recorder.enabled:
            _recorder.add(name, started, time.perf_counter(), args)


def write_trace(directory: Path) -> Path:
    """Write the recorded events to `trace-<unix time>.json` in `directory` (butido's name)."""
    path = directory / f"trace-{int(time.time() * 1000)}.json"
    with _recorder.lock:
        events = list(_recorder.events)
    path.write_text(json.dumps({"traceEvents": events, "displayTimeUnit": "ms"}), encoding="utf-8")
    return path
