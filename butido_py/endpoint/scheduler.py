"""Which endpoint runs the next job (pure decisions plus a blocking slot manager).

The least-utilised endpoint with a free slot wins (utilisation = running / maxjobs); ties keep the
configured order. Waiting for a slot blocks on a condition variable: no busy waiting (butido spun).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EndpointLoad:
    name: str
    maxjobs: int
    running: int = 0
    available: bool = True  # False while disabled or quarantined

    @property
    def free(self) -> bool:
        return self.available and self.running < self.maxjobs

    @property
    def utilisation(self) -> float:
        return self.running / self.maxjobs


def choose_endpoint(
    loads: Sequence[EndpointLoad], allowed: frozenset[str] | None = None
) -> str | None:
    """The endpoint for the next job, or None when every allowed endpoint is full."""
    candidates = [
        (load.utilisation, index, load.name)
        for index, load in enumerate(loads)
        if load.free and (allowed is None or load.name in allowed)
    ]
    return min(candidates)[2] if candidates else None


class SchedulerClosedError(Exception):
    """Raised to waiting jobs when the run is cancelled."""


class Scheduler:
    """Hands out endpoint slots; never more than `maxjobs` jobs run on one endpoint."""

    def __init__(self, endpoints: Sequence[tuple[str, int]]) -> None:
        self._loads = {name: EndpointLoad(name, maxjobs) for name, maxjobs in endpoints}
        self._order = [name for name, _ in endpoints]
        self._changed = threading.Condition()
        self._closed = False

    def loads(self) -> list[EndpointLoad]:
        with self._changed:
            return [self._loads[name] for name in self._order]

    @contextmanager
    def slot(self, allowed: frozenset[str] | None = None) -> Iterator[str]:
        """Block until an allowed endpoint has a free slot; yield its name; free it afterwards."""
        name = self._acquire(allowed)
        try:
            yield name
        finally:
            self._release(name)

    def set_available(self, name: str, available: bool) -> None:
        with self._changed:
            load = self._loads[name]
            self._loads[name] = EndpointLoad(load.name, load.maxjobs, load.running, available)
            self._changed.notify_all()

    def close(self) -> None:
        """Wake every waiting job with SchedulerClosedError (Ctrl-C, fatal errors)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _acquire(self, allowed: frozenset[str] | None) -> str:
        with self._changed:
            while True:
                if self._closed:
                    raise SchedulerClosedError
                name = choose_endpoint([self._loads[n] for n in self._order], allowed)
                if name is not None:
                    self._bump(name, +1)
                    return name
                self._changed.wait()

    def _release(self, name: str) -> None:
        with self._changed:
            self._bump(name, -1)
            self._changed.notify_all()

    def _bump(self, name: str, delta: int) -> None:
        load = self._loads[name]
        self._loads[name] = EndpointLoad(
            load.name, load.maxjobs, load.running + delta, load.available
        )
