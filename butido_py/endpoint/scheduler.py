"""Which endpoint runs the next job (pure decisions plus a blocking slot manager).

The least-utilised endpoint with a free slot wins (utilisation = running / maxjobs); ties keep the
configured order. Waiting for a slot blocks on a condition variable: no busy waiting (butido spun).

Failover: a job retried after an infrastructure failure names the endpoints to `avoid` (where its
attempts failed); it waits for another endpoint as long as one is available, and goes back to an
avoided one only when no other is left. `set_available(name, False)` takes a quarantined endpoint
out: it gets no new job, and when no allowed endpoint is available any more, waiting jobs get
`NoEndpointError` instead of waiting forever.
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
    loads: Sequence[EndpointLoad],
    allowed: frozenset[str] | None = None,
    avoid: frozenset[str] = frozenset(),
) -> str | None:
    """The endpoint for the next job, or None when every allowed endpoint is full (or none is
    available). Endpoints in `avoid` are chosen only when no other allowed one is available."""
    usable = [
        (index, load)
        for index, load in enumerate(loads)
        if load.available and (allowed is None or load.name in allowed)
    ]
    preferred = [(index, load) for index, load in usable if load.name not in avoid] or usable
    candidates = [(load.utilisation, index, load.name) for index, load in preferred if load.free]
    return min(candidates)[2] if candidates else None


def any_available(loads: Sequence[EndpointLoad], allowed: frozenset[str] | None = None) -> bool:
    """Whether a job can ever get a slot (False: every allowed endpoint was taken out)."""
    return any(load.available and (allowed is None or load.name in allowed) for load in loads)


class SchedulerClosedError(Exception):
    """Raised to waiting jobs when the run is cancelled."""


class NoEndpointError(Exception):
    """Raised to waiting jobs when no allowed endpoint is available any more (quarantined)."""


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
    def slot(
        self, allowed: frozenset[str] | None = None, avoid: frozenset[str] = frozenset()
    ) -> Iterator[str]:
        """Block until an allowed endpoint has a free slot (one not in `avoid`, unless only those
        are available); yield its name; free it afterwards."""
        name = self.acquire(allowed, avoid)
        try:
            yield name
        finally:
            self.release(name)

    def set_available(self, name: str, available: bool) -> None:
        """Take an endpoint out (quarantine) or put it back; running jobs keep their slots."""
        with self._changed:
            load = self._loads[name]
            self._loads[name] = EndpointLoad(load.name, load.maxjobs, load.running, available)
            self._changed.notify_all()

    def close(self) -> None:
        """Wake every waiting job with SchedulerClosedError (Ctrl-C, fatal errors)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def acquire(
        self, allowed: frozenset[str] | None = None, avoid: frozenset[str] = frozenset()
    ) -> str:
        """Block until an allowed endpoint has a free slot (see `slot`); take it."""
        with self._changed:
            while True:
                if self._closed:
                    raise SchedulerClosedError
                loads = [self._loads[n] for n in self._order]
                if not any_available(loads, allowed):
                    raise NoEndpointError
                name = choose_endpoint(loads, allowed, avoid)
                if name is not None:
                    self._bump(name, +1)
                    return name
                self._changed.wait()

    def release(self, name: str) -> None:
        """Give back a slot `acquire` handed out."""
        with self._changed:
            self._bump(name, -1)
            self._changed.notify_all()

    def _bump(self, name: str, delta: int) -> None:
        load = self._loads[name]
        self._loads[name] = EndpointLoad(
            load.name, load.maxjobs, load.running + delta, load.available
        )
