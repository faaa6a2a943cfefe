"""A build without Docker: a plan of tiny jobs, a real SQLite database, and a fake `JobScheduler`
whose containers succeed, fail or wait as a test tells them to."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from butido_py.config.model import EndpointConfig, EndpointType
from butido_py.endpoint.docker_job import EngineFailureError
from butido_py.endpoint.scheduler import Scheduler
from butido_py.orchestrator.container_run import ContainerHooks, ContainerOutcome, ContainerRun
from butido_py.orchestrator.model import (
    BuildJob,
    BuildSettings,
    JobEvent,
    PreparedBuild,
)
from butido_py.orchestrator.scheduling import Placement
from butido_py.package.model import DependencyKind, Package
from butido_py.states import FailureKind
from butido_py.stores.staging import StagedFile

IMAGE_ID = "sha256:" + "1" * 64

#: What a fake container does: None runs it to success, else the outcome to return.
Behaviour = Callable[[Placement, str], ContainerOutcome | None]


def endpoint(name: str, maxjobs: int = 1) -> EndpointConfig:
    return EndpointConfig(
        name=name,
        uri=f"tcp://{name}.invalid:2375",
        endpoint_type=EndpointType.HTTP,
        maxjobs=maxjobs,
    )


def package(name: str) -> Package:
    return Package(
        name=name,
        version="1",
        version_is_semver=False,
        sources=(),
        build_dependencies=(),
        runtime_dependencies=(),
        patches=(),
        phases=(),
    )


def plan(
    staging_root: Path,
    graph: Mapping[str, Sequence[str]],
    endpoints: Sequence[EndpointConfig],
    settings: BuildSettings | None = None,
) -> PreparedBuild:
    """`graph`: package → the packages it needs, every package after those it needs."""
    uuids = {name: uuid.uuid4() for name in graph}

    def transitive(name: str) -> tuple[uuid.UUID, ...]:
        found: dict[uuid.UUID, None] = {}
        for need in graph[name]:
            found.update(dict.fromkeys((*transitive(need), uuids[need])))
        return tuple(found)

    jobs = tuple(
        BuildJob(
            uuid=uuids[name],
            package=package(name),
            script=f"#!/bin/bash\nbuild {name}\n",
            env=(),
            needs=tuple((uuids[need], DependencyKind.RUNTIME) for need in needs),
            transitive=transitive(name),
            sources=(),
        )
        for name, needs in graph.items()
    )
    submit = uuid.uuid4()
    base = settings or BuildSettings()
    return PreparedBuild(
        submit_uuid=submit,
        root=jobs[-1].package,
        image="tiny:latest",
        image_ids={e.name: IMAGE_ID for e in endpoints},
        endpoints=tuple(endpoints),
        commit="0" * 40,
        commit_time=0,
        dirty=False,
        cli_env=(),
        jobs=jobs,
        patch_contents={},
        staging_dir=staging_root / str(submit),
        settings=replace(base, staging_roots=(staging_root,), release_dirs=()),
    )


def engine_failure(where: Placement, container: str) -> ContainerOutcome:
    """What the real runner returns when the engine fails the job (it may run elsewhere)."""
    error = EngineFailureError(f"endpoint {where.endpoint} failed", hint="restart it")
    return ContainerOutcome(
        container_id=container,
        error=error,
        failure_kind=FailureKind.INFRA,
        endpoint_failed=True,
    )


def script_failure(_where: Placement, container: str) -> ContainerOutcome:
    return ContainerOutcome(container_id=container, exit_code=1, failure_kind=FailureKind.SCRIPT)


@dataclass
class FakeScheduler:
    """Slots counted like the real scheduler (endpoint/scheduler.py, `maxjobs` per endpoint);
    containers are simulated: by default each writes `<package>-1.pkg` and succeeds."""

    endpoints: Sequence[EndpointConfig]
    #: package name → what its container does.
    behaviour: dict[str, Behaviour] = field(default_factory=dict)
    #: (package, endpoint) of every container made, in order.
    runs: list[tuple[str, str]] = field(default_factory=list)
    taken_out: list[str] = field(default_factory=list)
    canceled: threading.Event = field(default_factory=threading.Event)
    closed: bool = False
    swept: bool = False

    def __post_init__(self) -> None:
        self._slots = Scheduler([(e.name, e.maxjobs) for e in self.endpoints])
        self._lock = threading.Lock()

    def acquire(self, job: uuid.UUID, *, avoid: frozenset[str] = frozenset()) -> Placement:
        return Placement(job, self._slots.acquire(avoid=avoid))

    def release(self, placement: Placement) -> None:
        self._slots.release(placement.endpoint)

    def run(
        self, placement: Placement, run: ContainerRun, hooks: ContainerHooks
    ) -> ContainerOutcome:
        name = run.spec.labels["butido.package"]
        with self._lock:
            self.runs.append((name, placement.endpoint))
            container = f"container-{len(self.runs)}"
        if not hooks.created(container):
            return ContainerOutcome(container_id=container, failure_kind=FailureKind.CANCELED)
        with hooks.running(container):
            behaviour = self.behaviour.get(name)
            outcome = behaviour(placement, container) if behaviour is not None else None
        return outcome or _succeed(run, name, container)

    def take_out(self, endpoint: str) -> None:
        self.taken_out.append(endpoint)
        self._slots.set_available(endpoint, False)

    def cancel(self) -> None:
        self.canceled.set()
        self._slots.close()

    def heartbeat(self) -> None:
        return

    def close(self, *, sweep: bool) -> None:
        self.closed = True
        self.swept = sweep


def _succeed(run: ContainerRun, name: str, container: str) -> ContainerOutcome:
    data = f"package {name} 1\n".encode()
    path = f"{name}-1.pkg"
    run.staging_dir.mkdir(parents=True, exist_ok=True)
    (run.staging_dir / path).write_bytes(data)
    staged = StagedFile(path, hashlib.sha256(data).hexdigest(), len(data))
    return ContainerOutcome(container_id=container, exit_code=0, staged=[staged])


class Events:
    """A build listener that keeps every event."""

    def __init__(self, on_event: Callable[[JobEvent], None] = lambda _e: None) -> None:
        self.events: list[JobEvent] = []
        self.prepared: PreparedBuild | None = None
        self._on_event = on_event
        self._lock = threading.Lock()

    def started(self, prepared: PreparedBuild) -> None:
        self.prepared = prepared

    def event(self, event: JobEvent) -> None:
        with self._lock:
            self.events.append(event)
        self._on_event(event)

    def finished(self) -> None:
        return
