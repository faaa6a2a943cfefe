"""The scheduling seam: how a build places its jobs on endpoints and runs their containers there.

The run loop asks a `JobScheduler` for a slot (`acquire`), runs the job's container in it (`run`)
and gives it back (`release`); it never counts slots or talks to an engine itself. Builds use
`DatabaseScheduler` (db_scheduler.py): endpoint slots are leases in the database, shared by every
butido process of a farm (DESIGN.md §8), granted fairly between submits. `LocalScheduler` keeps
the slots in this process (endpoint/scheduler.py); both run containers with the docker SDK.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from butido_py.orchestrator.container_run import ContainerHooks, ContainerOutcome, ContainerRun


@dataclass(frozen=True, slots=True)
class Placement:
    """A slot of one endpoint held by one job (a lease, for a database-backed scheduler)."""

    job: uuid.UUID
    endpoint: str


class JobScheduler(Protocol):
    """Places jobs on endpoints and runs their containers; called from the jobs' worker threads.

    `acquire` blocks until an endpoint has a free slot; it raises
    `endpoint.scheduler.SchedulerClosedError` once the run is canceled and `NoEndpointError` when
    every endpoint the job may use was taken out."""

    def acquire(self, job: uuid.UUID, *, avoid: frozenset[str] = frozenset()) -> Placement:
        """A slot for `job`, on an endpoint not in `avoid` (where its attempts failed) unless
        only those are left."""
        ...

    def release(self, placement: Placement) -> None:
        """Give the slot back (after the container is gone, whatever happened)."""
        ...

    def run(
        self, placement: Placement, run: ContainerRun, hooks: ContainerHooks
    ) -> ContainerOutcome:
        """Run the job's container on its endpoint to its end. `hooks.running` is entered only
        once the endpoint may run one more container (at most `maxjobs` at once)."""
        ...

    def heartbeat(self) -> None:
        """The run is alive (called with the submit's heartbeat): refresh what it holds."""
        ...

    def take_out(self, endpoint: str) -> None:
        """The endpoint gets no more jobs (quarantined); running ones keep their slots."""
        ...

    def cancel(self) -> None:
        """Wake every waiting job (it gets SchedulerClosedError) and remove the containers made
        so far. Safe to call from a signal handler: the slow part runs in a thread."""
        ...

    def close(self, *, sweep: bool) -> None:
        """The run is over: wait for deferred work; with `sweep`, remove any container of the
        submit that is still on an endpoint."""
        ...
