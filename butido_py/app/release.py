"""`butido release new|rm`: copying a submit's artifacts into a release store, and taking a
package version out of one (butido-reference.md §11, with the fixes of §15.2 item 14).

Both operations are planned first (nothing written), so the CLI can show what will be replaced or
deleted and ask once, and then run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from butido_py.app import preflight
from butido_py.app.services import Services
from butido_py.config.model import Config
from butido_py.db import releases as db_releases
from butido_py.db.database import Database
from butido_py.db.records import ReleaseCandidateRecord, ReleaseRecord
from butido_py.db.submits import find_submit
from butido_py.errors import DatabaseError, StoreError
from butido_py.states import SubmitState
from butido_py.stores import release_store

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def check_store(config: Config, store: str) -> Path:
    """The directory of a configured release store; an unknown name is an error."""
    if store not in config.release_stores:
        raise StoreError(
            f"release store {store!r} is not configured",
            hint=f"configured release stores (key release_stores): "
            f"{', '.join(config.release_stores)}",
        )
    return release_store.store_dir(config.releases_root, store)


# --- release new --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReleaseRequest:
    submit: uuid.UUID
    store: str
    package: str | None = None
    version: str | None = None
    update: bool = False
    #: The submit's staging directory; default `<staging>/<submit uuid>`.
    staging_dir: Path | None = None
    #: Release from a submit that did not succeed (failed, canceled, lost or still running).
    force: bool = False


class ReleaseAction(StrEnum):
    RELEASE = "release"  # not in the store yet
    UPDATE = "update"  # in the store; replaced because of --update
    SKIP = "skip"  # already released (the same file is in the store)
    CONFLICT = "conflict"  # a different file is in the store: the release is refused


@dataclass(frozen=True, slots=True)
class PlannedRelease:
    artifact: ReleaseCandidateRecord
    source: Path
    destination: Path
    action: ReleaseAction
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ReleasePlan:
    submit: uuid.UUID
    store: str
    items: tuple[PlannedRelease, ...]

    def with_action(self, action: ReleaseAction) -> list[PlannedRelease]:
        return [item for item in self.items if item.action is action]


class ReleaseOutcome(StrEnum):
    RELEASED = "released"
    UPDATED = "updated"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ReleasedArtifact:
    package: str
    version: str
    artifact: str  # path relative to the staging directory and the store
    destination: Path
    sha256: str | None
    outcome: ReleaseOutcome
    reason: str | None = None
    release_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    submit: uuid.UUID
    store: str
    items: tuple[ReleasedArtifact, ...]

    def with_outcome(self, *outcomes: ReleaseOutcome) -> list[ReleasedArtifact]:
        return [item for item in self.items if item.outcome in outcomes]

    def failure(self) -> StoreError | None:
        """The error to end with when an artifact could not be released (after the report)."""
        failed = self.with_outcome(ReleaseOutcome.FAILED)
        if not failed:
            return None
        return StoreError(
            f"releasing {len(failed)} of {len(self.items)} artifact(s) to {self.store!r} "
            "failed (the others are done)",
            hint="see the errors above; a staged file must still match its recorded sha256",
        )


def plan_release(request: ReleaseRequest, services: Services) -> ReleasePlan:
    """What `release new` would do with each matching artifact; writes nothing."""
    config = services.config
    directory = check_store(config, request.store)
    db = services.database()
    _check_submit(db, request)
    candidates = db_releases.release_candidates(
        db, request.submit, request.store, package=request.package, version=request.version
    )
    if not candidates:
        wanted = " ".join(p for p in (request.package, request.version) if p)
        raise StoreError(
            f"no matching artifacts found to release in submit {request.submit}"
            + (f" for {wanted}" if wanted else ""),
            hint="`butido db jobs -S SUBMIT` lists its jobs; versions must match exactly, and "
            "reused jobs have no artifacts of their own (release the submit that built them)",
        )
    staging = request.staging_dir or config.staging / str(request.submit)
    items = tuple(
        _plan_one(candidate, staging, directory, update=request.update) for candidate in candidates
    )
    plan = ReleasePlan(request.submit, request.store, items)
    _refuse_conflicts(plan)
    return plan


def _check_submit(db: Database, request: ReleaseRequest) -> None:
    """The submit exists and succeeded: a failed submit's artifacts are not a release (a dependent
    package may be missing or built against a broken one) unless --force says so."""
    submit = find_submit(db, request.submit)
    if submit is None:
        raise DatabaseError(
            f"no submit {request.submit} in the database",
            hint="list submits with `butido db submits`",
        )
    if submit.state is not SubmitState.SUCCEEDED and not request.force:
        raise StoreError(
            f"submit {request.submit} is {submit.state}, not succeeded: its artifacts are not "
            "released",
            hint="pass --force to release the artifacts it did produce; "
            f"`butido db jobs -S {request.submit}` lists its jobs",
        )


#: How many conflicting files the refusal names; the rest are counted.
_NAMED = 3


def _refuse_conflicts(plan: ReleasePlan) -> None:
    """A different file under a released name is never replaced silently: nothing is written
    (butido refused file by file, after releasing the others)."""
    conflicts = plan.with_action(ReleaseAction.CONFLICT)
    if not conflicts:
        return
    names = ", ".join(str(item.destination) for item in conflicts[:_NAMED])
    more = f" and {len(conflicts) - _NAMED} more" if len(conflicts) > _NAMED else ""
    raise StoreError(
        f"release refused: {len(conflicts)} file(s) in release store {plan.store!r} differ from "
        f"the artifacts of submit {plan.submit}: {names}{more}",
        hint="pass --update to replace them (asks first); nothing was released",
    )


def _plan_one(
    artifact: ReleaseCandidateRecord, staging: Path, directory: Path, *, update: bool
) -> PlannedRelease:
    source = staging / artifact.path
    destination = release_store.released_path(directory, artifact.path)
    if not (destination.exists() or destination.is_symlink()):
        return PlannedRelease(artifact, source, destination, ReleaseAction.RELEASE)
    present = release_store.file_sha256(destination)
    expected = artifact.sha256 or release_store.file_sha256(source)
    same = present is not None and present == expected
    if update:
        reason = "the same file is in the store" if same else "a different file is in the store"
        return PlannedRelease(artifact, source, destination, ReleaseAction.UPDATE, reason)
    if same:
        when = artifact.released_at
        reason = (
            f"already released on {when:%Y-%m-%d %H:%M:%S} UTC"
            if when is not None
            else "an identical file is already in the store"
        )
        return PlannedRelease(artifact, source, destination, ReleaseAction.SKIP, reason)
    kind = "different file" if present is not None else "directory or link"
    return PlannedRelease(
        artifact,
        source,
        destination,
        ReleaseAction.CONFLICT,
        f"a {kind} is already in the store; pass --update to replace it",
    )


def run_release(plan: ReleasePlan, services: Services, *, clock: Clock = utc_now) -> ReleaseResult:
    """Copy, verify and record every planned artifact; one failure does not stop the others."""
    preflight.check_release_store(
        check_store(services.config, plan.store), plan.store, services.warn
    )
    db = services.database()
    return ReleaseResult(
        plan.submit, plan.store, tuple(_run_one(item, plan.store, db, clock) for item in plan.items)
    )


def _run_one(item: PlannedRelease, store: str, db: Database, clock: Clock) -> ReleasedArtifact:
    artifact = item.artifact
    skipped = ReleasedArtifact(
        artifact.package_name,
        artifact.package_version,
        artifact.path,
        item.destination,
        artifact.sha256,
        ReleaseOutcome.SKIPPED,
        item.reason,
    )
    if item.action in (ReleaseAction.SKIP, ReleaseAction.CONFLICT):
        return skipped  # a plan with conflicts is refused before it runs
    try:
        copied = release_store.copy_verified(
            item.source, item.destination, expected_sha256=artifact.sha256
        )
    except StoreError as exc:
        return replace(skipped, outcome=ReleaseOutcome.FAILED, reason=exc.message)
    record = db_releases.record_release(db, artifact.artifact_id, store, at=clock())
    done = (
        ReleaseOutcome.UPDATED if item.action is ReleaseAction.UPDATE else ReleaseOutcome.RELEASED
    )
    return replace(skipped, outcome=done, sha256=copied.sha256, release_date=record.release_date)


# --- release rm ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemovalPlan:
    store: str
    name: str
    version: str
    #: Every release of the version into the store, newest first.
    releases: tuple[ReleaseRecord, ...]
    #: The distinct files those releases put into the store.
    files: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class RemovalResult:
    store: str
    name: str
    version: str
    deleted: tuple[Path, ...]
    already_missing: tuple[Path, ...]
    removed_releases: int


def plan_removal(services: Services, *, store: str, name: str, version: str) -> RemovalPlan:
    """The releases of exactly (name, version) in the store, and their files; writes nothing."""
    directory = check_store(services.config, store)
    found = db_releases.releases_of_package(services.database(), store, name, version)
    if not found:
        raise StoreError(
            f"no release of {name} {version} in release store {store!r}",
            hint=f"`butido release list --to {store} -p {name}` lists its releases",
        )
    paths = dict.fromkeys(
        release_store.released_path(directory, release.artifact_path) for release in found
    )
    return RemovalPlan(store, name, version, tuple(found), tuple(paths))


def run_removal(plan: RemovalPlan, services: Services) -> RemovalResult:
    """Delete the files first: a file that cannot be deleted leaves the database untouched."""
    db = services.database()
    deleted: list[Path] = []
    missing: list[Path] = []
    for path in plan.files:
        (deleted if release_store.remove_released(path) else missing).append(path)
    removed = db_releases.delete_releases(db, [release.id for release in plan.releases])
    return RemovalResult(
        plan.store, plan.name, plan.version, tuple(deleted), tuple(missing), removed
    )
