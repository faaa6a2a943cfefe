"""`butido rerun SUBMIT`: a new submit of the same commit, image and env that runs what did not
succeed (or chosen jobs and their dependents) and reuses every other job's artifacts."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from butido_py.app.build import run_prepared
from butido_py.app.group_build import (
    GroupResult,
    check_one_staging_dir,
    group_submits,
    load_group,
    repeat_group,
    run_group,
)
from butido_py.app.repeat import (
    OriginalSubmit,
    RepeatOptions,
    load_original,
    new_job_by_package,
    prepare_repeat,
)
from butido_py.app.services import Services
from butido_py.db import groups as db_groups
from butido_py.db.records import JobDependencyRecord, JobRecord
from butido_py.errors import UsageError
from butido_py.orchestrator.model import BuildListener, BuildResult, PreparedBuild
from butido_py.states import SubmitKind


@dataclass(frozen=True, slots=True)
class RerunRequest:
    submit: uuid.UUID
    options: RepeatOptions = field(default_factory=RepeatOptions)
    #: Run the jobs that did not succeed (implied when no job is chosen).
    failed: bool = False
    #: Run these jobs of the original and every job that needs them.
    chosen: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class RerunResult:
    original: uuid.UUID
    build: BuildResult


def rerun(
    request: RerunRequest, services: Services, listener: BuildListener, cancel: threading.Event
) -> RerunResult:
    """Prepare the rerun of the original (reusing what is not run again) and run it."""
    original = load_original(services.database(), request.submit, command="rerun")
    prepared = prepare_rerun(
        original,
        options=request.options,
        services=services,
        failed=request.failed,
        chosen=request.chosen,
    )
    return RerunResult(request.submit, run_prepared(prepared, services, listener, cancel))


def select_jobs(
    jobs: Sequence[JobRecord],
    edges: Iterable[JobDependencyRecord],
    *,
    failed: bool,
    chosen: Sequence[uuid.UUID] = (),
) -> frozenset[uuid.UUID]:
    """The original jobs to run again: with `failed`, every job that did not succeed (failed,
    dep_failed, canceled, lost); each chosen job and every job that needs it, directly or not."""
    known = {job.uuid for job in jobs}
    for job_uuid in chosen:
        if job_uuid not in known:
            submit = jobs[0].submit_uuid if jobs else "the submit"
            raise UsageError(
                f"job {job_uuid} is not a job of submit {submit}",
                hint=f"`butido db submit {submit}` lists its jobs",
            )
    selected = {job.uuid for job in jobs if failed and job.state.ok is not True}
    dependents: dict[uuid.UUID, list[uuid.UUID]] = {}
    for edge in edges:
        dependents.setdefault(edge.depends_on_uuid, []).append(edge.job_uuid)
    stack = list(chosen)
    while stack:
        job_uuid = stack.pop()
        if job_uuid not in selected:
            selected.add(job_uuid)
            stack.extend(dependents.get(job_uuid, ()))
    return frozenset(selected)


def prepare_rerun(
    original: OriginalSubmit,
    *,
    options: RepeatOptions,
    services: Services,
    failed: bool,
    chosen: Sequence[uuid.UUID],
) -> PreparedBuild:
    """Every job of the original that is not selected and succeeded (or was reused) is reused
    from it; the others run. `failed` is implied when no job is chosen."""
    selected = select_jobs(
        original.jobs, original.edges, failed=failed or not chosen, chosen=chosen
    )
    # A submit of butido (Rust) may lack jobs of its plan (never run): only the new plan tells.
    if not selected and not original.from_butido_rust:
        raise _nothing_to_rerun(original)
    prepared = prepare_repeat(original, kind=SubmitKind.RERUN, options=options, services=services)
    new_jobs = new_job_by_package(prepared)
    reuse_from = {
        new_jobs[key]: job.uuid
        for key, job in original.job_by_package().items()
        if job.uuid not in selected and job.state.ok is True
    }
    plan = [(job.uuid, [need for need, _ in job.needs]) for job in prepared.jobs]
    reuse_from = consistent_reuse(plan, reuse_from)
    if len(reuse_from) == len(prepared.jobs):
        raise _nothing_to_rerun(original)
    return replace(prepared, reuse_from=reuse_from)


def _nothing_to_rerun(original: OriginalSubmit) -> UsageError:
    submit = original.submit.uuid
    return UsageError(
        f"every job of submit {submit} succeeded or was reused: nothing to rerun",
        hint=f"`butido rerun {submit} --job JOB` runs a job and its dependents again; "
        f"`butido rebuild {submit}` runs every job",
    )


def consistent_reuse(
    plan: Iterable[tuple[uuid.UUID, Iterable[uuid.UUID]]],
    reuse_from: Mapping[uuid.UUID, uuid.UUID],
) -> dict[uuid.UUID, uuid.UUID]:
    """Only jobs whose dependencies are all reused too: a job that needs one that runs again
    runs as well (the original's edges say so already; a submit of butido (Rust) has none, so
    the new plan's edges decide). `plan`: (job, the jobs it needs), dependencies first."""
    kept = dict(reuse_from)
    for job, needs in plan:
        if job in kept and any(need not in kept for need in needs):
            del kept[job]
    return kept


# --- groups ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupRerunRequest:
    group: uuid.UUID
    options: RepeatOptions = field(default_factory=RepeatOptions)
    #: Only this image's submit (full or short name); None: every image's.
    image: str | None = None


def is_group(services: Services, key: uuid.UUID) -> bool:
    """Whether `key` names a group (rather than a submit)."""
    return db_groups.find_group(services.database(), key) is not None


def rerun_group(
    request: GroupRerunRequest,
    services: Services,
    listener: BuildListener,
    cancel: threading.Event,
) -> GroupResult:
    """A new group (kind `rerun`, its parent the original) with a rerun of each image's submit
    that has something to run again; the images whose submit succeeded are left out."""
    group = load_group(services, request.group, command="rerun")
    database = services.database()
    prepared = []
    for submit in group_submits(services, group, request.image):
        original = load_original(database, submit.uuid, command="rerun")
        if not select_jobs(original.jobs, original.edges, failed=True):
            continue
        prepared.append(
            prepare_rerun(
                original, options=request.options, services=services, failed=True, chosen=()
            )
        )
    if not prepared:
        raise UsageError(
            f"every submit of group {group.uuid}"
            + (f" for image {request.image}" if request.image else "")
            + " succeeded or was reused: nothing to rerun",
            hint=f"`butido rebuild {group.uuid}` runs every job again",
        )
    check_one_staging_dir(request.options, len(prepared))
    return run_group(repeat_group(group, prepared, SubmitKind.RERUN), services, listener, cancel)
