"""What `rebuild` and `rerun` share: the original submit as recorded, and a new plan of the same
package from the same commit, image and `-E` environment, prepared as `butido build` prepares
one (app/build.py), checked to have the same jobs as the original."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from butido_py.app.build import BuildRequest, prepare_build
from butido_py.app.services import Services, Warn
from butido_py.db import jobs as db_jobs
from butido_py.db import submits as db_submits
from butido_py.db.database import Database
from butido_py.db.endpoints import disabled_endpoint_names
from butido_py.db.records import EnvPairs, JobDependencyRecord, JobRecord, SubmitRecord
from butido_py.errors import DatabaseError, RepositoryError
from butido_py.orchestrator.model import PreparedBuild
from butido_py.states import SubmitKind, SubmitState

PackageKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class OriginalSubmit:
    submit: SubmitRecord
    env: tuple[tuple[str, str], ...]
    jobs: tuple[JobRecord, ...]
    edges: tuple[JobDependencyRecord, ...]
    #: job uuid → the script and the final environment each job ran with.
    recorded: Mapping[uuid.UUID, tuple[str, EnvPairs]] = field(default_factory=dict)

    def job_by_package(self) -> dict[PackageKey, JobRecord]:
        return {(j.package_name, j.package_version): j for j in self.jobs}

    @property
    def from_butido_rust(self) -> bool:
        """Recorded by butido (Rust) and adopted (`db setup --adopt-butido`): butido wrote a
        job only when its script had run, so reused and never-run jobs of its plan are missing,
        and it recorded no plan edges. Every butido_py submit records its orchestrator."""
        return self.submit.orchestrator_host is None


@dataclass(frozen=True, slots=True)
class RepeatOptions:
    """The options of `rebuild` and `rerun` (everything else comes from the original)."""

    endpoints: tuple[str, ...] = ()
    staging_dir: Path | None = None
    write_log: bool = False
    keep_containers: bool = False
    #: Verify the cached sources' hashes, lint the scripts (as `butido build` does).
    verify: bool = True
    lint: bool = True
    #: `--timeout`: seconds each job may run (None: as `build` decides without it).
    timeout: float | None = None


def load_original(database: Database, submit_uuid: uuid.UUID, *, command: str) -> OriginalSubmit:
    submit = db_submits.find_submit(database, submit_uuid)
    if submit is None:
        raise DatabaseError(
            f"no submit {submit_uuid} in the database",
            hint="`butido db submits` lists the submits",
        )
    if submit.state is SubmitState.RUNNING:
        raise DatabaseError(
            f"submit {submit_uuid} is still running: it cannot be repeated yet",
            hint=f"wait until it has finished, then run `butido {command} {submit_uuid}` again",
        )
    if submit.dirty:
        raise RepositoryError(
            f"submit {submit_uuid} was built from a dirty work tree (--allow-dirty): its package "
            f"files are not those of commit {submit.commit_hash[:12]}",
            hint="only a submit of a clean commit can be repeated; build it again from a commit",
        )
    jobs, edges = db_jobs.jobs_of_submit(database, submit.id)
    env = db_submits.submit_env(database, submit.id)
    recorded = db_jobs.recorded_inputs_of_submit(database, submit.id)
    return OriginalSubmit(submit, env, tuple(jobs), tuple(edges), recorded)


def prepare_repeat(
    original: OriginalSubmit, *, kind: SubmitKind, options: RepeatOptions, services: Services
) -> PreparedBuild:
    """The original's package, image and env from its commit, prepared like a build (every check
    of `butido build`), with reuse by key off; `kind` and the parent recorded."""
    submit = original.submit
    if original.from_butido_rust and not original.env:
        services.warn(
            f"butido (Rust) did not record the -E variables of submit {submit.uuid}: the plan is "
            "made without them (the jobs it recorded run with their recorded environments)"
        )
    request = BuildRequest(
        name=submit.package_name,
        version=submit.package_version,
        image=submit.image,
        env=original.env,
        staging_dir=options.staging_dir,
        write_log=options.write_log,
        endpoints=options.endpoints,
        reuse=False,
        keep_containers=options.keep_containers,
        verify=options.verify,
        lint=options.lint,
        timeout=options.timeout,
    )
    database = services.database()
    prepared = prepare_build(
        request,
        config=services.config,
        repository=services.repository_at(submit.commit_hash),
        warn=services.warn,
        disabled_endpoints=lambda: disabled_endpoint_names(database),
    )
    check_same_jobs(original, prepared, services.warn)
    prepared = as_recorded(original, prepared, services.warn)
    return replace(prepared, kind=kind, parent_submit=submit.uuid)


def as_recorded(original: OriginalSubmit, prepared: PreparedBuild, warn: Warn) -> PreparedBuild:
    """The plan with each job's recorded script and environment: what ran is what runs again,
    even when the configuration (shebang, phases, git variables) changed since."""
    by_package = original.job_by_package()
    changed = []
    jobs = []
    for job in prepared.jobs:
        before = by_package.get(job.package.key)  # None: butido (Rust) kept no record of it
        recorded = None if before is None else original.recorded.get(before.uuid)
        if recorded is None or recorded == (job.script, tuple(sorted(job.env))):
            jobs.append(job)
        else:
            changed.append(job.label)
            jobs.append(replace(job, script=recorded[0], env=recorded[1]))
    if changed:
        warn(
            f"the scripts or environments of {', '.join(changed)} differ from what submit "
            f"{original.submit.uuid} recorded (the configuration or the SOURCE_DATE_EPOCH policy "
            "changed since); the recorded "
            "ones run"
        )
    return replace(prepared, jobs=tuple(jobs))


def check_same_jobs(original: OriginalSubmit, prepared: PreparedBuild, warn: Warn) -> None:
    """The new plan must have the original's package jobs, no more and no fewer (more is
    expected of a submit butido (Rust) recorded: those jobs run)."""
    before = set(original.job_by_package())
    after = {job.package.key for job in prepared.jobs}
    if before == after:
        return
    if original.from_butido_rust and before <= after:
        warn(
            f"submit {original.submit.uuid} was recorded by butido (Rust), which kept no record "
            f"of {len(after - before)} job(s) of its plan (reused or never run): "
            f"{_names(after - before)}; they run"
        )
        return
    parts = []
    if before - after:
        parts.append(f"not in the new plan: {_names(before - after)}")
    if after - before:
        parts.append(f"new in the plan: {_names(after - before)}")
    raise RepositoryError(
        f"the plan of {original.submit.package_name} {original.submit.package_version} at "
        f"commit {original.submit.commit_hash[:12]} differs from submit "
        f"{original.submit.uuid}'s jobs ({'; '.join(parts)})",
        hint="the package tree is read from the same commit, so the configuration (images, "
        "environment) must have changed; `butido db submit UUID` shows the original",
    )


def _names(keys: Sequence[PackageKey] | set[PackageKey]) -> str:
    return ", ".join(f"{name} {version}" for name, version in sorted(keys))


def new_job_by_package(prepared: PreparedBuild) -> dict[PackageKey, uuid.UUID]:
    return {job.package.key: job.uuid for job in prepared.jobs}
