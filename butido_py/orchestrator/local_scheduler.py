"""`LocalScheduler`: the in-process `JobScheduler` (slots counted in this process, containers run
with the docker SDK).

Two kinds of slots per endpoint keep the engine busy without ever running more than `maxjobs`
containers on it: a job takes one of `PREPARED_PER_SLOT * maxjobs` *container* slots (the
least-utilised endpoint's) to create its container and copy its inputs in, then waits for one of
the endpoint's `maxjobs` *run* slots to start it, and gives the run slot back as soon as the
container has stopped, before its /outputs are copied out. So the next job's container is ready
when a running one ends, and copying files in and out overlaps the running containers.

The run slots are this process's unless the caller passes `run_slot`: the `DatabaseScheduler`
(db_scheduler.py) keeps the container slots and the Docker part here and takes the run slot as
a lease in the database instead, shared with every butido process.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace

from butido_py.config.model import EndpointConfig
from butido_py.endpoint.docker_hosts import remove_containers, submit_containers
from butido_py.endpoint.docker_job import PREPARED_PER_SLOT, EndpointClients
from butido_py.endpoint.scheduler import Scheduler
from butido_py.errors import ButidoError
from butido_py.orchestrator.container_run import (
    ContainerHooks,
    ContainerOutcome,
    ContainerRun,
    run_container,
)
from butido_py.orchestrator.scheduling import Placement

log = logging.getLogger(__name__)

#: Held while the container of a placement runs (at most `maxjobs` at once on its endpoint).
RunSlot = Callable[[Placement], AbstractContextManager[object]]


class LocalScheduler:
    def __init__(
        self,
        endpoints: Sequence[EndpointConfig],
        submit: uuid.UUID,
        *,
        run_slot: RunSlot | None = None,
    ) -> None:
        self._endpoints = {endpoint.name: endpoint for endpoint in endpoints}
        self._submit = submit
        #: Container slots: where a job's container is made (least-utilised endpoint first).
        self._slots = Scheduler([(e.name, PREPARED_PER_SLOT * e.maxjobs) for e in endpoints])
        #: Run slots: never more than `maxjobs` running containers on an endpoint.
        self._run_slots = {e.name: Scheduler([(e.name, e.maxjobs)]) for e in endpoints}
        self._run_slot = run_slot or self._local_run_slot
        self._lock = threading.Lock()
        self._containers: dict[str, str] = {}  # container id → endpoint name
        self._clients = EndpointClients()
        # Containers are removed off the jobs' critical path; the run waits for it at the end.
        self._cleanup = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cleanup")

    @staticmethod
    def containers(endpoints: Sequence[EndpointConfig]) -> int:
        """How many containers can exist at once (each has a worker thread)."""
        return sum(PREPARED_PER_SLOT * e.maxjobs for e in endpoints)

    def acquire(self, job: uuid.UUID, *, avoid: frozenset[str] = frozenset()) -> Placement:
        return Placement(job, self._slots.acquire(avoid=avoid))

    def release(self, placement: Placement) -> None:
        self._slots.release(placement.endpoint)

    def run(
        self, placement: Placement, run: ContainerRun, hooks: ContainerHooks
    ) -> ContainerOutcome:
        endpoint = placement.endpoint

        def created(container_id: str) -> bool:
            with self._lock:
                self._containers[container_id] = endpoint
            # Registered first: either cancel() sees this container or the hook sees the cancel.
            return hooks.created(container_id)

        @contextmanager
        def running(container_id: str) -> Iterator[None]:
            with self._run_slot(placement), hooks.running(container_id):
                yield

        tracked = replace(hooks, created=created, running=running)
        outcome = run_container(run, tracked, clients=self._clients, defer_removal=self._defer)
        with self._lock:
            self._containers.pop(outcome.container_id or "", None)
        return outcome

    def _local_run_slot(self, placement: Placement) -> AbstractContextManager[object]:
        return self._run_slots[placement.endpoint].slot()

    def heartbeat(self) -> None:
        """Nothing to refresh: the slots live in this process."""

    def take_out(self, endpoint: str) -> None:
        self._slots.set_available(endpoint, False)

    def cancel(self) -> None:
        self._slots.close()
        for slots in self._run_slots.values():
            slots.close()
        threading.Thread(target=self._remove_tracked, name="cancel", daemon=True).start()

    def close(self, *, sweep: bool) -> None:
        self._cleanup.shutdown(wait=True)
        if sweep:
            self._sweep()
        self._clients.close()

    def _defer(self, removal: Callable[[], None]) -> None:
        self._cleanup.submit(removal)

    def _remove_tracked(self) -> None:
        with self._lock:
            tracked = dict(self._containers)
        for container_id, endpoint in tracked.items():
            try:
                remove_containers(self._endpoints[endpoint], [container_id])
            except ButidoError as error:
                log.warning("could not remove container %s: %s", container_id[:12], error)

    def _sweep(self) -> None:
        """Whatever happened, no container of this submit stays behind."""
        for endpoint in self._endpoints.values():
            try:
                left = submit_containers(endpoint, str(self._submit))
                if left:
                    remove_containers(endpoint, left)
            except ButidoError as error:
                log.warning("could not clean up containers on %s: %s", endpoint.name, error)
