"""`butido build NAME VERSION -I IMAGE [-I IMAGE …]`: one group, a submit per image.

Every image is planned and checked (app/build.py `check_build`) before anything is written; an
image the package tree may not use (`allowed_images`/`denied_images`) is refused for that image
alone, the others still build (`all_or_nothing`: nothing runs). Then the group is recorded and
its submits run at the same time in this process, one `BuildRun` each: they take endpoint slots
from the database scheduler, which shares them fairly between submits (db/leases.py), and jobs
with the same key in two images are coalesced as between any live submits (db/coalescing.py).
A single-image build is a group of one.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from butido_py.app import preflight
from butido_py.app.build import (
    CANCEL_POLL,
    BuildRequest,
    CanceledBeforeStartError,
    check_build,
    check_images,
    remove_orphans,
    run_until_canceled,
    select_package,
)
from butido_py.app.recovery import reclaim_leases
from butido_py.app.services import Services
from butido_py.config.images import expand_image
from butido_py.db import groups as db_groups
from butido_py.db.database import Database
from butido_py.db.groups import PlannedGroup
from butido_py.db.records import SubmitRecord
from butido_py.endpoint.checks import ImageMissingError
from butido_py.errors import ButidoError, DatabaseError, RepositoryError, UsageError
from butido_py.orchestrator.model import BuildListener, BuildResult, PreparedBuild
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.orchestrator.run import BuildRun
from butido_py.package.model import Package
from butido_py.plan.dag import build_dag
from butido_py.repository.model import Repository, WorkTree
from butido_py.states import SubmitKind, SubmitState

if TYPE_CHECKING:
    from butido_py.app.dry_run import DryRun
    from butido_py.app.repeat import RepeatOptions


@dataclass(frozen=True, slots=True)
class GroupRequest:
    #: Everything but the image (its `image` is ignored).
    build: BuildRequest
    #: Full or short names, in the order asked; empty with `all_images`.
    images: tuple[str, ...] = ()
    #: Every configured image the package tree may use.
    all_images: bool = False
    #: Run nothing when an image is refused.
    all_or_nothing: bool = False


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """A checked group: nothing has been written yet."""

    group: PlannedGroup
    prepared: tuple[PreparedBuild, ...]
    #: (image, why) of each image the package tree may not use.
    refused: tuple[tuple[str, ButidoError], ...] = ()


@dataclass(frozen=True, slots=True)
class ImageOutcome:
    image: str
    #: None when the image was refused or its submit did not run (`error` says why).
    result: BuildResult | None
    error: ButidoError | None = None


@dataclass(frozen=True, slots=True)
class GroupResult:
    group_uuid: uuid.UUID
    #: One per image of the request, in its order.
    outcomes: tuple[ImageOutcome, ...]

    @property
    def results(self) -> tuple[BuildResult, ...]:
        return tuple(o.result for o in self.outcomes if o.result is not None)

    @property
    def state(self) -> SubmitState:
        """The group state of docs/database.md; an image that did not run counts as failed."""
        return db_groups.group_state(
            SubmitState(o.result.state) if o.result is not None else SubmitState.FAILED
            for o in self.outcomes
        )


def build_group(
    request: GroupRequest, services: Services, listener: BuildListener, cancel: threading.Event
) -> GroupResult:
    """Check every image, record the group and run its submits together."""
    plan = plan_group(request, services)
    remove_orphans(services, plan.prepared[0].endpoints)
    return run_group(plan, services, listener, cancel)


# --- planning -------------------------------------------------------------------------------------


def plan_group(request: GroupRequest, services: Services) -> GroupPlan:
    """Every check of every image; raises when no image can build (or, with `all_or_nothing`,
    when one cannot)."""
    base = request.build
    repository = services.repository(base.commit, base.allow_dirty, changes=WorkTree.RECORD)
    root = select_package(repository, base.name, base.version)
    images = requested_images(request, services, repository, root)
    if len(images) > 1 and base.staging_dir is not None:
        raise UsageError(
            f"--staging-dir names one submit, but {len(images)} images make one each",
            hint="leave --staging-dir out (each submit stages under its own UUID)",
        )
    refused: list[tuple[str, ButidoError]] = [
        (image, error)
        for image in images
        if (error := image_refusal(repository, root, image, base.env)) is not None
    ]
    _stop_when_refused(request, images, refused)  # before any endpoint is asked
    prepared = _checked_images(request, services, images, refused)
    _stop_when_refused(request, images, refused)
    group = PlannedGroup(
        uuid=uuid.uuid4(),
        created_at=datetime.now(UTC),
        package_name=root.name,
        package_version=root.version,
        images=images,
        commit_hash=repository.commit,
        env=base.env,
    )
    return GroupPlan(group, prepared, tuple(sorted(refused, key=lambda r: images.index(r[0]))))


def _checked_images(
    request: GroupRequest,
    services: Services,
    images: Sequence[str],
    refused: list[tuple[str, ButidoError]],
) -> tuple[PreparedBuild, ...]:
    """`check_build` of each image not refused yet; an image an endpoint does not have is
    refused for that image alone (added to `refused`), as one the package may not use."""
    skip = {image for image, _ in refused}
    prepared: list[PreparedBuild] = []
    for image in images:
        if image in skip:
            continue
        try:
            prepared.append(check_build(replace(request.build, image=image), services))
        except ImageMissingError as error:
            refused.append((image, error))
            if request.all_or_nothing:
                break
    return tuple(prepared)


def _stop_when_refused(
    request: GroupRequest, images: Sequence[str], refused: Sequence[tuple[str, ButidoError]]
) -> None:
    """Raise when nothing may run: every image refused, or one with `all_or_nothing`."""
    if refused and (request.all_or_nothing or len(refused) == len(images)):
        ordered = sorted(refused, key=lambda r: images.index(r[0]))
        raise _refused_error(ordered, all_or_nothing=request.all_or_nothing)


def requested_images(
    request: GroupRequest, services: Services, repository: Repository, root: Package
) -> tuple[str, ...]:
    """Full names, each once; with `all_images` every configured image the tree may use."""
    config = services.config
    if not request.all_images:
        if not request.images:
            raise UsageError("no image to build in", hint="name one with -I, or --all-images")
        return tuple(dict.fromkeys(expand_image(config, image) for image in request.images))
    configured = [image.name for image in config.docker.images]
    usable = tuple(
        image
        for image in configured
        if image_refusal(repository, root, image, request.build.env) is None
    )
    if not usable:
        raise RepositoryError(
            f"package {root} may use none of the configured images "
            f"({', '.join(configured) or 'none'})",
            hint="see allowed_images/denied_images of its dependency tree (`butido tree-of`)",
        )
    return usable


def image_refusal(
    repository: Repository, root: Package, image: str, env: Sequence[tuple[str, str]]
) -> RepositoryError | None:
    """Why the package tree may not be built on `image`, if so."""
    dag = build_dag(repository, root, image=image, env=tuple(env))
    try:
        check_images(list(dag.topological_order()), image)
    except RepositoryError as error:
        return error
    return None


def _refused_error(
    refused: Sequence[tuple[str, ButidoError]], *, all_or_nothing: bool
) -> ButidoError:
    if len(refused) == 1 and not all_or_nothing:
        return refused[0][1]  # a build for one image fails as it always did
    images = ", ".join(image for image, _ in refused)
    first = refused[0][1]
    return type(first)(  # the first refusal's class: its exit code
        f"{first.message} (refused images: {images})"
        + ("; --all-or-nothing: nothing was run" if all_or_nothing else ""),
        hint=first.hint,
    )


def dry_run_group(
    request: GroupRequest, services: Services
) -> tuple[tuple[str, DryRun | ButidoError], ...]:
    """Each image's dry run (app/dry_run.py), or why the package tree may not use the image."""
    from butido_py.app.dry_run import dry_run  # noqa: PLC0415 - only with --dry-run

    base = request.build
    repository = services.repository(base.commit, base.allow_dirty, changes=WorkTree.RECORD)
    root = select_package(repository, base.name, base.version)
    planned: list[tuple[str, DryRun | ButidoError]] = []
    for image in requested_images(request, services, repository, root):
        refusal = image_refusal(repository, root, image, base.env)
        planned.append((image, refusal or dry_run(replace(base, image=image), services)))
    return tuple(planned)


# --- running --------------------------------------------------------------------------------------


class GroupRecorder(BuildRecorder):
    """Records a submit as one of its group's."""

    def __init__(self, database: Database, group_uuid: uuid.UUID) -> None:
        super().__init__(database)
        self._group_uuid = group_uuid

    def record_plan(self, prepared: PreparedBuild) -> None:
        super().record_plan(prepared)
        db_groups.link_submit(self.database, self._group_uuid, prepared.submit_uuid)


def run_group(
    plan: GroupPlan, services: Services, listener: BuildListener, cancel: threading.Event
) -> GroupResult:
    """Record the group, then run its submits at the same time until each ends or `cancel` is
    set; a submit that fails to start (or dies) fails for its image alone."""
    if cancel.is_set():
        raise CanceledBeforeStartError(
            f"canceled before group {plan.group.uuid} started: nothing was recorded"
        )
    for prepared in plan.prepared:  # every image's directories before anything is recorded
        preflight.check_build(prepared, services.warn)
    database = services.database()
    db_groups.record_group(database, plan.group)
    outcomes: dict[str, ImageOutcome] = {}

    def run_one(prepared: PreparedBuild) -> None:
        try:
            result = _run_submit(prepared, services, listener, cancel, plan.group.uuid)
            outcomes[prepared.image] = ImageOutcome(prepared.image, result)
        except ButidoError as error:
            outcomes[prepared.image] = ImageOutcome(prepared.image, None, error)

    if len(plan.prepared) == 1:  # no thread: errors and signals as for a single build
        outcomes[plan.prepared[0].image] = ImageOutcome(
            plan.prepared[0].image,
            _run_submit(plan.prepared[0], services, listener, cancel, plan.group.uuid),
        )
    else:
        threads = [
            threading.Thread(target=run_one, args=(p,), name=f"submit-{p.image}")
            for p in plan.prepared
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():  # a timeout keeps the main thread's signal handlers live
                thread.join(CANCEL_POLL)
    refused = dict(plan.refused)
    return GroupResult(
        plan.group.uuid,
        tuple(
            outcomes.get(image) or ImageOutcome(image, None, refused.get(image))
            for image in plan.group.images
        ),
    )


def _run_submit(
    prepared: PreparedBuild,
    services: Services,
    listener: BuildListener,
    cancel: threading.Event,
    group_uuid: uuid.UUID,
) -> BuildResult:
    """As app/build.py `run_prepared`, recording the submit as one of the group's."""
    database = services.database()
    run = BuildRun(
        prepared,
        GroupRecorder(database, group_uuid),
        listener,
        reclaim=lambda: reclaim_leases(database, services.config, warn=services.warn),
    )
    return run_until_canceled(run, cancel)


def repeat_group(
    original: db_groups.GroupRecord, prepared: Sequence[PreparedBuild], kind: SubmitKind
) -> GroupPlan:
    """The plan of a rerun or rebuild of a group: one submit per image that runs again."""
    group = PlannedGroup(
        uuid=uuid.uuid4(),
        created_at=datetime.now(UTC),
        package_name=original.package_name,
        package_version=original.package_version,
        images=tuple(p.image for p in prepared),
        commit_hash=original.commit_hash,
        env=original.env,
        kind=kind,
        parent_group_uuid=original.uuid,
    )
    return GroupPlan(group, tuple(prepared))


def load_group(services: Services, group_uuid: uuid.UUID, *, command: str) -> db_groups.GroupRecord:
    group = db_groups.find_group(services.database(), group_uuid)
    if group is None:
        raise DatabaseError(
            f"no group {group_uuid} in the database",
            hint="`butido db groups` lists the groups",
        )
    if group.state is SubmitState.RUNNING:
        raise DatabaseError(
            f"group {group_uuid} is still running: it cannot be repeated yet",
            hint=f"wait until it has finished, then run `butido {command} {group_uuid}` again",
        )
    return group


def group_submits(
    services: Services, group: db_groups.GroupRecord, image: str | None
) -> tuple[SubmitRecord, ...]:
    """The group's submits, or the one of `image` (full or short name)."""
    if image is None:
        return group.submits
    submit = group.submit_for(expand_image(services.config, image))
    if submit is None:
        raise UsageError(
            f"group {group.uuid} has no submit for image {image}",
            hint=f"its images: {', '.join(s.image for s in group.submits) or 'none'}",
        )
    return (submit,)


def check_one_staging_dir(options: RepeatOptions, submits: int) -> None:
    if submits > 1 and options.staging_dir is not None:
        raise UsageError(
            f"--staging-dir names one submit, but {submits} images make one each",
            hint="leave --staging-dir out, or repeat one image with --image",
        )
