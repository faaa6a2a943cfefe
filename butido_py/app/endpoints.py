"""`butido endpoint …`: looking after the configured Docker endpoints: their health in the
database, their engines, images and butido's containers on them, and switching them off and on.

Every function takes the endpoint named on the command line (`None`: all configured ones).
Removing and stopping containers is selected first (nothing done) so the CLI can ask once.

Safe on a shared engine (docs/endpoints.md): prune and stop never select a container whose submit
is running in this database with a live orchestrator (host, pid and heartbeat, as crash recovery
judges them) — whatever its Docker state: `created` is a job being prepared right now. A container
whose submit this database does not know belongs to another database's builds on the same engine
(or to no butido_py build) and is left unless `--all`.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from butido_py.app.services import Services
from butido_py.config.model import Config, EndpointConfig
from butido_py.endpoint import docker_hosts
from butido_py.endpoint.docker import ping as ping_endpoint
from butido_py.endpoint.docker_hosts import SUBMIT_LABEL, ContainerRecord, EngineStats
from butido_py.errors import ButidoError, DatabaseError, EndpointError, did_you_mean

if TYPE_CHECKING:
    from butido_py.db.database import Database
    from butido_py.db.records import EndpointRecord

#: Docker's states of a container that is not running.
STOPPED_STATES = ("exited", "created", "dead")


def chosen_endpoints(config: Config, name: str | None) -> tuple[EndpointConfig, ...]:
    """The endpoint `name`, or every configured endpoint."""
    endpoints = config.docker.endpoints
    if name is None:
        return tuple(endpoints)
    chosen = tuple(e for e in endpoints if e.name == name)
    if not chosen:
        raise EndpointError(
            f"endpoint {name!r} is not configured",
            hint=did_you_mean(name, [e.name for e in endpoints])
            or f"configured endpoints: {', '.join(e.name for e in endpoints)}",
        )
    return chosen


# --- health ---------------------------------------------------------------------------------------


class EndpointState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """An endpoint's health in the database; every field None when the database is unreadable."""

    endpoint: EndpointConfig
    state: EndpointState | None
    disabled: bool | None
    quarantined_until: datetime | None
    failures: int | None


def health_of(
    endpoint: EndpointConfig, record: EndpointRecord | None, *, known: bool, now: datetime
) -> EndpointHealth:
    """Whether builds use the endpoint; `record` None with `known`: never failed nor disabled."""
    if not known:
        return EndpointHealth(endpoint, None, None, None, None)
    if record is None:
        return EndpointHealth(endpoint, EndpointState.ENABLED, False, None, 0)
    until = record.quarantined_until
    if record.disabled:
        state = EndpointState.DISABLED
    elif until is not None and until > now:
        state = EndpointState.QUARANTINED
    else:
        state = EndpointState.ENABLED
    return EndpointHealth(endpoint, state, record.disabled, until, record.consecutive_failures)


def endpoint_health(
    services: Services, name: str | None, *, now: datetime | None = None
) -> tuple[EndpointHealth, ...]:
    """The health of the chosen endpoints, without asking the engines. Unknown (with a warning)
    when the database cannot be read: `stats` must work on a host without one."""
    endpoints = chosen_endpoints(services.config, name)
    # Imported here: SQLAlchemy is slow to import and `stats` may not need it.
    from butido_py.db.endpoints import list_endpoints  # noqa: PLC0415

    try:
        records = {record.name: record for record in list_endpoints(services.database())}
    except DatabaseError as exc:
        services.warn(f"endpoint health unknown: {exc.message}")
        records, known = {}, False
    else:
        known = True
    moment = now or datetime.now(UTC)
    return tuple(health_of(e, records.get(e.name), known=known, now=moment) for e in endpoints)


def set_disabled(services: Services, name: str, *, disabled: bool) -> EndpointRecord:
    """Record that builds must not use endpoint `name` (or may again; enabling also lifts a
    quarantine)."""
    configured = [e.name for e in services.config.docker.endpoints]
    if name not in configured:
        raise EndpointError(
            f"endpoint {name!r} is not configured",
            hint=did_you_mean(name, configured)
            or f"configured endpoints: {', '.join(configured) or 'none'}",
        )
    from butido_py.db.endpoints import set_endpoint_disabled  # noqa: PLC0415 - SQLAlchemy is slow

    return set_endpoint_disabled(services.database(), name, disabled=disabled)


# --- engines --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EngineReport:
    health: EndpointHealth
    #: None when the engine did not answer (`error` says why).
    stats: EngineStats | None
    error: EndpointError | None = None


@dataclass(frozen=True, slots=True)
class StatsResult:
    reports: tuple[EngineReport, ...]

    def failure(self) -> EndpointError | None:
        """The error to end with when an engine did not answer (after showing every row)."""
        failed = [(r.health.endpoint.name, r.error) for r in self.reports if r.error is not None]
        if len(failed) == 1:
            return failed[0][1]
        if not failed:
            return None
        names = ", ".join(repr(name) for name, _ in failed)
        first = failed[0][1]
        return EndpointError(
            f"{len(failed)} of {len(self.reports)} endpoints did not answer ({names}): "
            f"{first.message}",
            hint=first.hint,
        )


def endpoint_stats(services: Services, name: str | None) -> StatsResult:
    """Engine facts and database health of each chosen endpoint; all engines asked at once."""
    health = endpoint_health(services, name)
    with ThreadPoolExecutor(max_workers=min(8, len(health)) or 1) as pool:
        answers = list(pool.map(_engine_stats, (h.endpoint for h in health)))
    return StatsResult(
        tuple(
            EngineReport(h, None, a) if isinstance(a, EndpointError) else EngineReport(h, a)
            for h, a in zip(health, answers, strict=True)
        )
    )


def _engine_stats(endpoint: EndpointConfig) -> EngineStats | EndpointError:
    try:
        return docker_hosts.engine_stats(endpoint)
    except EndpointError as error:
        return error


@dataclass(frozen=True, slots=True)
class PingResult:
    #: endpoint name → round trips in seconds, in the order they were made.
    round_trips: dict[str, list[float]]
    #: The endpoint that did not answer (the pings stop there), and why.
    failed: str | None = None
    error: ButidoError | None = None


def ping_endpoints(
    services: Services,
    name: str | None,
    *,
    times: int,
    sleep: float,
    on_round: Callable[[str, int, float], None] = lambda *_: None,
) -> PingResult:
    """Ping each chosen endpoint `times` times; `on_round(endpoint, attempt, seconds)` hears each
    answer. Stops at the first endpoint that does not answer."""
    results: dict[str, list[float]] = {}
    for endpoint in chosen_endpoints(services.config, name):
        rounds = results.setdefault(endpoint.name, [])
        for attempt in range(1, times + 1):
            try:
                rounds.append(ping_endpoint(endpoint))
            except ButidoError as error:
                return PingResult(results, endpoint.name, error)
            on_round(endpoint.name, attempt, rounds[-1])
            if attempt < times and sleep:
                time.sleep(sleep)
    return PingResult(results)


# --- images ---------------------------------------------------------------------------------------


def endpoint_images(services: Services, name: str | None) -> list[docker_hosts.ImageRecord]:
    return [
        image
        for endpoint in chosen_endpoints(services.config, name)
        for image in docker_hosts.list_images(endpoint)
    ]


@dataclass(frozen=True, slots=True)
class ImagePresence:
    endpoint: str
    image: str
    present: bool


def verify_images(services: Services, name: str | None) -> tuple[ImagePresence, ...]:
    """Whether every configured image is on every chosen endpoint."""
    names = [image.name for image in services.config.docker.images]
    return tuple(
        ImagePresence(endpoint.name, image, present)
        for endpoint in chosen_endpoints(services.config, name)
        for image, present in docker_hosts.images_present(endpoint, names).items()
    )


def missing_images_error(found: Sequence[ImagePresence]) -> EndpointError | None:
    missing = [f"{p.image} on {p.endpoint}" for p in found if not p.present]
    if not missing:
        return None
    return EndpointError(
        f"{len(missing)} image(s) missing: {', '.join(missing)}",
        hint="builds never pull; build or load the images on the endpoints "
        "(scripts/images shows how)",
    )


# --- containers -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContainerQuery:
    endpoint: str | None = None
    #: Also stopped containers.
    stopped: bool = False
    #: Also containers butido did not start (and, for prune and stop, those of submits this
    #: database does not know).
    include_foreign: bool = False
    image: str | None = None
    #: Only containers created before / after this time (`--older-than`, `--newer-than`).
    older_than: datetime | None = None
    newer_than: datetime | None = None

    def matches(self, container: ContainerRecord) -> bool:
        return (
            (self.image is None or container.image == self.image)
            and (self.older_than is None or container.created < self.older_than)
            and (self.newer_than is None or container.created > self.newer_than)
        )


def find_containers(services: Services, query: ContainerQuery) -> list[ContainerRecord]:
    found = [
        container
        for endpoint in chosen_endpoints(services.config, query.endpoint)
        for container in docker_hosts.list_containers(
            endpoint, include_stopped=query.stopped, include_foreign=query.include_foreign
        )
    ]
    return [c for c in found if query.matches(c)]


class Owner(StrEnum):
    """Whose a container is, as far as this database can tell."""

    #: Its submit runs, and its orchestrator is alive: never touched.
    LIVE = "live"
    #: Its submit is recorded and no longer running (or its orchestrator is gone).
    ENDED = "ended"
    #: Its submit is not in this database (another database's build on a shared engine).
    UNKNOWN = "unknown"
    #: Not started by butido.
    FOREIGN = "foreign"


#: Why a container was left, for the CLI's note.
LEFT_REASONS = {
    Owner.LIVE: "their submit is running (a live build)",
    Owner.UNKNOWN: "their submit is not in this database (another database's build on a shared "
    "engine?); --all includes them",
}


@dataclass(frozen=True, slots=True)
class Selection:
    """What prune or stop would act on, and how many it leaves, by why."""

    chosen: list[ContainerRecord]
    left: dict[Owner, int]


def owners(
    database: Database,
    containers: Iterable[ContainerRecord],
    *,
    timeout: timedelta,
    now: datetime | None = None,
) -> dict[str, Owner]:
    """Container id → its owner; one query for the running submits, one per other submit."""
    from butido_py.app.recovery import is_lost  # noqa: PLC0415
    from butido_py.db.submits import find_submit, running_submits  # noqa: PLC0415 - slow import
    from butido_py.process import pid_alive  # noqa: PLC0415

    at, host = now or datetime.now(UTC), socket.gethostname()
    running = {
        s.uuid: not is_lost(s, host=host, now=at, timeout=timeout, pid_alive=pid_alive)
        for s in running_submits(database)
    }
    known: dict[uuid.UUID, bool] = {}
    found: dict[str, Owner] = {}
    for container in containers:
        submit = _submit_of(container)
        if not container.is_butido:
            found[container.id] = Owner.FOREIGN
        elif submit is None:
            found[container.id] = Owner.UNKNOWN
        elif submit in running:
            found[container.id] = Owner.LIVE if running[submit] else Owner.ENDED
        else:
            if submit not in known:
                known[submit] = find_submit(database, submit) is not None
            found[container.id] = Owner.ENDED if known[submit] else Owner.UNKNOWN
    return found


def _submit_of(container: ContainerRecord) -> uuid.UUID | None:
    label = container.label(SUBMIT_LABEL)
    try:
        return uuid.UUID(label) if label else None
    except ValueError:
        return None


def _select(
    services: Services, query: ContainerQuery, states: Sequence[str], *, stopped: bool
) -> Selection:
    """The containers in `states` that prune or stop may touch (see the module's text)."""
    # Listed with the foreign ones, so that --all reaches the unknown submits as well.
    listed = replace(query, stopped=stopped, include_foreign=True)
    found = [c for c in find_containers(services, listed) if c.state in states]
    whose = owners(
        services.database(), found, timeout=timedelta(seconds=services.config.heartbeat_timeout)
    )
    allowed = {Owner.ENDED} | ({Owner.UNKNOWN, Owner.FOREIGN} if query.include_foreign else set())
    left: dict[Owner, int] = {}
    for container in found:
        owner = whose[container.id]
        if owner not in allowed and owner is not Owner.FOREIGN:
            left[owner] = left.get(owner, 0) + 1
    return Selection([c for c in found if whose[c.id] in allowed], left)


def stopped_containers(services: Services, query: ContainerQuery) -> Selection:
    """What `containers prune` removes."""
    return _select(services, query, STOPPED_STATES, stopped=True)


def running_containers(services: Services, query: ContainerQuery) -> Selection:
    """What `containers stop` stops."""
    return _select(services, query, ("running",), stopped=False)


def remove_ended_containers(services: Services, endpoint: EndpointConfig) -> int:
    """Remove butido's containers on `endpoint` whose submits ended (those a dead endpoint held
    while their builds went on or failed); how many."""
    chosen = _select(
        services, ContainerQuery(endpoint.name), (*STOPPED_STATES, "running"), stopped=True
    ).chosen
    return len(remove_containers(services, chosen))


def remove_containers(
    services: Services, containers: Sequence[ContainerRecord]
) -> list[ContainerRecord]:
    """Remove the containers (running ones are killed first), endpoint by endpoint."""
    return _per_endpoint(services, containers, docker_hosts.remove_containers)


def stop_containers(
    services: Services, containers: Sequence[ContainerRecord], *, timeout: int
) -> list[ContainerRecord]:
    def stop(endpoint: EndpointConfig, ids: list[str]) -> None:
        docker_hosts.stop_containers(endpoint, ids, timeout=timeout)

    return _per_endpoint(services, containers, stop)


def _per_endpoint(
    services: Services,
    containers: Sequence[ContainerRecord],
    action: Callable[[EndpointConfig, list[str]], None],
) -> list[ContainerRecord]:
    done: list[ContainerRecord] = []
    for endpoint in services.config.docker.endpoints:
        mine = [c for c in containers if c.endpoint == endpoint.name]
        if mine:
            action(endpoint, [c.id for c in mine])
            done += mine
    return done


@dataclass(frozen=True, slots=True)
class Processes:
    titles: list[str]
    #: (endpoint, short container id, *the process's columns)
    rows: list[tuple[Any, ...]]


def container_processes(
    services: Services, query: ContainerQuery, *, limit: int | None = None
) -> Processes:
    """The processes of every running container, or of the `limit` newest (rows whose columns
    do not match are left out)."""
    rows: list[tuple[Any, ...]] = []
    titles: list[str] = []
    running = find_containers(services, replace(query, stopped=False))
    if limit is not None:
        running = sorted(running, key=lambda c: c.created, reverse=True)[:limit]
    endpoints = {e.name: e for e in services.config.docker.endpoints}
    for c in running:
        titles, processes = docker_hosts.container_top(endpoints[c.endpoint], c.id)
        rows += [(c.endpoint, c.id[:12], *process) for process in processes]
    titles = titles or ["UID", "PID", "CMD"]
    return Processes(titles, [row for row in rows if len(row) == len(titles) + 2])


@dataclass(frozen=True, slots=True)
class ChosenContainer:
    endpoint: EndpointConfig
    container: ContainerRecord

    @property
    def label(self) -> str:
        return f"{self.endpoint.name} {self.container.id[:12]}"


def find_container(
    services: Services, name: str | None, wanted: str, *, include_foreign: bool
) -> ChosenContainer:
    """The one container (id, id prefix or name) on the chosen endpoints; butido's only unless
    `include_foreign`."""
    endpoints = chosen_endpoints(services.config, name)
    matches = [
        ChosenContainer(endpoint, c)
        for endpoint in endpoints
        for c in docker_hosts.list_containers(endpoint, include_stopped=True, include_foreign=True)
        if c.id.startswith(wanted) or c.name == wanted
    ]
    if not matches:
        raise EndpointError(
            f"no container {wanted!r} on {', '.join(e.name for e in endpoints)}",
            hint="list them with `butido endpoint containers list --list-stopped`",
        )
    if len(matches) > 1:
        where = ", ".join(f"{m.container.id[:12]} on {m.endpoint.name}" for m in matches)
        raise EndpointError(
            f"container {wanted!r} is ambiguous: {where}", hint="give more of the id"
        )
    chosen = matches[0]
    if not chosen.container.is_butido and not include_foreign:
        raise EndpointError(
            f"container {chosen.container.id[:12]} on {chosen.endpoint.name!r} was not started "
            "by butido",
            hint="pass --all after the container id to act on it anyway",
        )
    return chosen


def inspect_container(chosen: ChosenContainer) -> dict[str, Any]:
    """Docker's full description of the container."""
    return docker_hosts.inspect_container(chosen.endpoint, chosen.container.id)


def container_top(chosen: ChosenContainer) -> tuple[list[str], list[list[str]]]:
    return docker_hosts.container_top(chosen.endpoint, chosen.container.id)


def signal_container(chosen: ChosenContainer, signal: str) -> None:
    docker_hosts.container_action(chosen.endpoint, chosen.container.id, "kill", signal=signal)


def delete_container(chosen: ChosenContainer) -> None:
    docker_hosts.remove_containers(chosen.endpoint, [chosen.container.id])


def start_container(chosen: ChosenContainer) -> None:
    docker_hosts.container_action(chosen.endpoint, chosen.container.id, "start")


def stop_container(chosen: ChosenContainer, *, timeout: int) -> None:
    docker_hosts.stop_containers(chosen.endpoint, [chosen.container.id], timeout=timeout)


def exec_in_container(chosen: ChosenContainer, command: Sequence[str]) -> tuple[int, str]:
    """Run `command` in the running container (no TTY): its exit code and output."""
    return docker_hosts.exec_in_container(chosen.endpoint, chosen.container.id, list(command))
