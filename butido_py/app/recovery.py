"""Crash recovery: submits whose orchestrator died are recorded `lost` (docs/recovery.md).

A running build records its host and pid in its submit and refreshes `submits.heartbeat_at` every
`HEARTBEAT_SECONDS`. Whenever a command opens the database, `recover_lost_submits` looks at the
running submits (one indexed query; nothing else happens when there are none) and decides for
each whether its orchestrator is gone:

- on this host: its process no longer exists, or it exists but the heartbeat is older than
  `heartbeat_timeout` (the pid was reused by another process);
- on another host: the heartbeat is older than `heartbeat_timeout`.

A lost submit, its unfinished jobs and their open attempts become `lost` in one transaction
whose UPDATE claims the submit (`WHERE state = 'running'`), so two commands recovering at once
never both do it and never fail. Then the containers labelled with the submit are removed on
every configured endpoint that answers within a few seconds; the others are reported and left
(`butido endpoint NAME containers list` shows them; a later command does not try again). Last,
the submit's staging directory (under the configured `staging`) loses what no artifact row
records: the scratch directories of extractions that were cut off, and files moved into place
whose job was not recorded `succeeded` before the orchestrator died — only when this host is
the orchestrator's and its process is gone (a stale heartbeat alone may be a stalled build).

A lost submit also loses its endpoint slots (db/leases.py): its leases and waiting requests are
deleted with it. Builds waiting for a slot call `reclaim_leases`, so the slots a dead build held
come back without waiting for the next command: its holder is checked the same way (`is_lost`),
and when one is gone, the submits are recovered as above.

The same look also repairs finished submits that contradict their jobs (db/invariant.py), as
older versions could leave after a database outage: a `succeeded` submit with unfinished or
failed jobs becomes `failed`, unfinished jobs of a finished submit become `lost` (`canceled` in a
canceled submit); one warning per repaired submit says what was changed.
"""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from butido_py.config.model import Config, EndpointConfig
from butido_py.db import invariant, leases
from butido_py.db.artifacts import submit_outputs
from butido_py.db.database import Database
from butido_py.db.jobs import mark_submit_lost
from butido_py.db.submits import running_submits
from butido_py.errors import ButidoError
from butido_py.process import pid_alive

#: Seconds each endpoint may take to answer while the containers of a lost submit are removed.
CLEANUP_TIMEOUT = 5

Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class RecoveredSubmit:
    uuid: uuid.UUID
    host: str | None
    pid: int | None
    jobs_lost: int
    containers_removed: int
    #: Endpoints whose containers could not be looked at (not reachable).
    skipped_endpoints: tuple[str, ...] = ()
    #: What was removed from its staging directory (relative paths).
    staging_removed: tuple[str, ...] = ()


class Orchestrated(Protocol):
    """A running submit, or the holder of endpoint slots: the process that runs it."""

    @property
    def orchestrator_host(self) -> str | None: ...
    @property
    def orchestrator_pid(self) -> int | None: ...
    @property
    def heartbeat_at(self) -> datetime | None: ...


def is_lost(
    submit: Orchestrated,
    *,
    host: str,
    now: datetime,
    timeout: timedelta,
    pid_alive: Callable[[int], bool],
) -> bool:
    """Whether the orchestrator of this running submit is gone (a pure decision)."""
    if submit.orchestrator_host is None or submit.orchestrator_pid is None:
        return False  # not recorded by a butido_py build (butido's rows): nothing to go by
    beat = submit.heartbeat_at
    stale = beat is not None and now - beat > timeout
    if submit.orchestrator_host == host:
        return stale or not pid_alive(submit.orchestrator_pid)
    return stale


def recover_lost_submits(
    db: Database,
    config: Config,
    *,
    warn: Warn,
    now: datetime | None = None,
    host: str | None = None,
    alive: Callable[[int], bool] = pid_alive,
) -> list[RecoveredSubmit]:
    """Record the submits of dead orchestrators `lost` and remove their containers; repair
    finished submits that contradict their jobs (`repair_contradictions`)."""
    repair_contradictions(db, warn=warn, now=now)
    running = running_submits(db)
    if not running:
        return []
    at = now or datetime.now(UTC)
    here = host or socket.gethostname()
    timeout = timedelta(seconds=config.heartbeat_timeout)
    recovered = []
    for submit in running:
        if not is_lost(submit, host=here, now=at, timeout=timeout, pid_alive=alive):
            continue
        moved = mark_submit_lost(db, submit.id, at=at, heartbeat_at=submit.heartbeat_at)
        if moved is None:
            continue  # another command recovered it, or it finished or beat meanwhile
        leases.drop_submit(db, submit.id)
        removed, skipped = _remove_containers(config.docker.endpoints, submit.uuid, warn)
        recorded = {
            artifact.path
            for job in submit_outputs(db, submit.uuid)
            for artifact in job.artifacts
            if artifact.submit_uuid == submit.uuid  # not those of reused jobs
        }
        cleaned: tuple[str, ...] = ()
        # Only when the orchestrator is certainly gone: a stale heartbeat alone may be a build
        # that is stalled (its database unreachable) but still moving files into place.
        pid = submit.orchestrator_pid
        if submit.orchestrator_host == here and pid is not None and not alive(pid):
            cleaned = clean_staging(config.staging / str(submit.uuid), recorded, warn)
        recovered.append(
            RecoveredSubmit(
                uuid=submit.uuid,
                host=submit.orchestrator_host,
                pid=submit.orchestrator_pid,
                jobs_lost=moved,
                containers_removed=removed,
                skipped_endpoints=skipped,
                staging_removed=cleaned,
            )
        )
    return recovered


def repair_contradictions(
    db: Database, *, warn: Warn, now: datetime | None = None
) -> list[invariant.Repaired]:
    """Make every finished submit that breaks the invariant tell the truth; one warning each.
    (Staging files without artifact rows are `stores.staging`'s; they would be checked here.)"""
    at = now or datetime.now(UTC)
    repaired = []
    for found in invariant.find_contradictions(db):
        done = invariant.repair(db, found, at=at)
        if done is None:
            continue  # another command repaired it meanwhile
        repaired.append(done)
        warn(
            f"submit {done.uuid} contradicted its jobs ({done.problem}): repaired, "
            f"{done.jobs_closed} unfinished jobs recorded {done.jobs_state}, the submit "
            f"{'stays' if done.now is done.was else 'recorded'} {done.now}"
        )
    return repaired


def reclaim_leases(
    db: Database,
    config: Config,
    *,
    warn: Warn,
    now: datetime | None = None,
    host: str | None = None,
    alive: Callable[[int], bool] = pid_alive,
) -> list[RecoveredSubmit]:
    """Give back the endpoint slots of dead builds: the leases of submits that are no longer
    running are dropped; when a holder's process is gone (`is_lost`), the running submits are
    recovered (`recover_lost_submits`, which drops their leases)."""
    leases.drop_orphans(db)
    at = now or datetime.now(UTC)
    here = host or socket.gethostname()
    timeout = timedelta(seconds=config.heartbeat_timeout)
    holders = leases.slot_holders(db)
    if not any(
        is_lost(holder, host=here, now=at, timeout=timeout, pid_alive=alive) for holder in holders
    ):
        return []
    return recover_lost_submits(db, config, warn=warn, now=at, host=here, alive=alive)


#: The scratch directories of `stores.staging.extract_outputs`.
SCRATCH_PREFIX = ".incoming-"


def clean_staging(directory: Path, recorded: set[str], warn: Warn) -> tuple[str, ...]:
    """Remove from a lost submit's staging directory everything no artifact row records (paths
    relative to it); what was removed, sorted. Nothing outside `directory` is touched, links
    are removed, never followed."""
    if not directory.is_dir() or directory.is_symlink():
        return ()
    removed = []
    try:
        for path in sorted(directory.rglob("*")):
            relative = path.relative_to(directory).as_posix()
            if path.name.startswith(SCRATCH_PREFIX) and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
                removed.append(relative)
            elif (path.is_file() or path.is_symlink()) and relative not in recorded:
                path.unlink()
                removed.append(relative)
    except OSError as error:
        warn(f"cleaning the staging directory {directory} of a lost submit failed: {error}")
    return tuple(removed)


def _remove_containers(
    endpoints: Sequence[EndpointConfig], submit: uuid.UUID, warn: Warn
) -> tuple[int, tuple[str, ...]]:
    # Imported here: the docker SDK is slow to import and most commands never recover anything.
    from butido_py.endpoint.docker_hosts import remove_submit_containers  # noqa: PLC0415

    def remove(endpoint: EndpointConfig) -> int:
        timeout = min(endpoint.timeout, CLEANUP_TIMEOUT)
        return remove_submit_containers(endpoint, str(submit), timeout=timeout)

    removed = 0
    skipped = []
    with ThreadPoolExecutor(max_workers=max(1, min(len(endpoints), 8))) as pool:
        futures = [(endpoint, pool.submit(remove, endpoint)) for endpoint in endpoints]
    for endpoint, future in futures:
        error = future.exception()
        if error is None:
            removed += future.result()
            continue
        skipped.append(endpoint.name)
        reason = error.message if isinstance(error, ButidoError) else repr(error)
        warn(
            f"endpoint {endpoint.name}: the containers of lost submit {submit} were not removed "
            f"({reason}); once it answers, `butido endpoint {endpoint.name} containers prune` "
            f"removes them when stopped, `butido endpoint {endpoint.name} container ID delete` "
            "when still running"
        )
    return removed, tuple(skipped)
