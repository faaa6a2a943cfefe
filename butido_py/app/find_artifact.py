"""`butido find-artifact`: the artifacts a build would reuse (butido-reference.md §12.7, on top of
the job keys of DESIGN.md §3 "Reuse by content").

For each selected package and image, the package's dependency tree is walked dependencies first,
exactly as `butido build` plans it: each node's job key is computed from its rendered script, the
image digest, its final environment (package `environment`, `-E`, the git variables and
SOURCE_DATE_EPOCH — butido forgot the git variables, §15.2 item 15), its sources, its patches and
the sha256 of the artifacts its dependencies would reuse. The image digest comes from the
database (every digest recorded for the image name is tried), so no Docker engine is needed. A
node whose dependencies would not all be reused cannot be reused either: a build would run it.

With `script_filter=False` (`-S`) the keys are not used: every succeeded job of the package
(name, version, image name) whose recorded environment equals the environment a build would give
it is a candidate, whatever its script or inputs were.

Artifacts are located like the build does: `<staging root>/<submit uuid>/<path>` and
`<releases_root>/<store>/<path>`, each checked against its recorded sha256.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from butido_py.app.build import check_images, job_environment
from butido_py.config.images import expand_image
from butido_py.config.model import Config
from butido_py.db import artifacts as db_artifacts
from butido_py.db import jobs as db_jobs
from butido_py.db import releases as db_releases
from butido_py.db.database import Database
from butido_py.db.records import ArtifactRecord, JobRecord
from butido_py.errors import RepositoryError, StoreError
from butido_py.lint import ScriptSettings, render_checked
from butido_py.package.model import Package
from butido_py.plan.dag import Dag, build_dag
from butido_py.plan.job_key import job_key_of
from butido_py.repository.model import Repository
from butido_py.states import JobState
from butido_py.stores import release_store
from butido_py.stores.artifact_locator import STAGING, ArtifactLocator

#: `find_reusable` in the orchestrator looks at this many newest jobs of a key.
BUILD_CANDIDATES = 5
#: How many jobs of one key find-artifact looks at (all of them, in practice).
LISTED_CANDIDATES = 1000

PackageKey = tuple[str, str]


# --- request and result -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindArtifactRequest:
    regex: str
    constraint: str | None = None
    #: Full or short name; None: every image recorded for the package.
    image: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    #: More places to look: a submit's staging directory (its name a UUID: its parent is searched,
    #: as `build --staging-dir` does) or a directory of submit directories.
    staging_dirs: tuple[Path, ...] = ()
    script_filter: bool = True


@dataclass(frozen=True, slots=True)
class FoundArtifact:
    package: str
    version: str
    image: str
    #: The digest the job key was computed with (None with `-S`).
    image_digest: str | None
    path: str  # relative, as recorded
    file: Path  # where it is, checked by sha256
    sha256: str
    #: "staging" or the name of the release store.
    location: str
    #: In a store: the newest release into that store (None: not recorded). In staging: the
    #: newest release into any store (None: never released).
    release_date: datetime | None
    job: uuid.UUID
    submit: uuid.UUID
    #: True for the job `butido build` would reuse (the newest complete match); None with `-S`.
    chosen: bool | None


@dataclass(frozen=True, slots=True)
class FindArtifactResult:
    artifacts: tuple[FoundArtifact, ...]
    #: Why some package/image pair could not be searched (shown on stderr).
    notes: tuple[str, ...] = ()


# --- locating -----------------------------------------------------------------------------------


def staging_roots(config: Config, extra: Sequence[Path]) -> list[Path]:
    """The configured staging directory and those given with `--staging-dir`."""
    roots = [config.staging]
    for given in extra:
        directory = given.resolve()
        if not directory.is_dir():
            raise StoreError(
                f"--staging-dir {given}: no such directory",
                hint="name the staging directory of a submit, or a directory of them",
            )
        try:
            uuid.UUID(directory.name)
        except ValueError:
            roots.append(directory)
        else:
            roots.append(directory.parent)
    return roots


# --- the search ---------------------------------------------------------------------------------


def find_artifacts(
    request: FindArtifactRequest, *, config: Config, repository: Repository, db: Database
) -> FindArtifactResult:
    packages = repository.search(request.regex, request.constraint)
    image = expand_image(config, request.image) if request.image is not None else None
    stores = [release_store.store_dir(config.releases_root, name) for name in config.release_stores]
    search = _Search(
        request,
        config=config,
        repository=repository,
        db=db,
        locator=ArtifactLocator(staging_roots(config, request.staging_dirs), stores),
    )
    for package in packages:
        images = [image] if image is not None else search.recorded_images(package)
        if not images:
            search.notes.append(f"{package.name} {package.version}: never built")
        for name in images:
            search.package_on(package, name, explicit=image is not None)
    found = sorted(
        search.found, key=lambda a: (a.package, a.version, a.image, a.path, a.location, a.file)
    )
    return FindArtifactResult(tuple(found), tuple(search.notes))


@dataclass(frozen=True, slots=True)
class _Match:
    job: JobRecord
    #: Every artifact of the job with every place it was found (empty: missing or changed).
    artifacts: tuple[tuple[ArtifactRecord, tuple[tuple[str, Path], ...]], ...]

    @property
    def complete(self) -> bool:
        return all(places for _, places in self.artifacts)


@dataclass
class _Search:
    request: FindArtifactRequest
    config: Config
    repository: Repository
    db: Database
    locator: ArtifactLocator
    found: list[FoundArtifact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _jobs: dict[tuple[str, str | None], list[JobRecord]] = field(default_factory=dict)
    _scripts: dict[PackageKey, str] = field(default_factory=dict)
    _releases: dict[tuple[str, str, str], dict[int, datetime]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._settings = ScriptSettings(
            phases=self.config.available_phases,
            shebang=self.config.shebang,
            strict=self.config.strict_script_interpolation,
        )

    # --- database look-ups (cached) ----------------------------------------------------------

    def _jobs_of(self, name: str, image: str | None) -> list[JobRecord]:
        key = (name, image)
        if key not in self._jobs:
            query = db_jobs.JobFilter(package=name, image=image)
            self._jobs[key] = db_jobs.list_jobs(self.db, query)
        return self._jobs[key]

    def recorded_images(self, package: Package) -> list[str]:
        jobs = self._jobs_of(package.name, None)
        return sorted({j.image for j in jobs if j.package_version == package.version})

    def _digests(self, dag: Dag, image: str) -> list[str]:
        """Every image digest recorded for `image` by a job of the tree, newest first."""
        jobs = [j for node in dag.nodes for j in self._jobs_of(node.name, image)]
        jobs.sort(key=lambda j: (j.submit_time, j.id), reverse=True)
        return list(dict.fromkeys(j.image_digest for j in jobs if j.image_digest))

    def _release_date(
        self, record: ArtifactRecord, package: Package, store: str
    ) -> datetime | None:
        key = (store, package.name, package.version)
        if key not in self._releases:
            newest: dict[int, datetime] = {}
            for release in db_releases.releases_of_package(
                self.db, store, package.name, package.version
            ):
                newest.setdefault(release.artifact_id, release.release_date)
            self._releases[key] = newest
        return self._releases[key].get(record.id)

    def _match(self, job: JobRecord) -> _Match:
        records = db_artifacts.artifacts_of_jobs(self.db, [job.id])[job.id]
        return _Match(
            job,
            tuple(
                (r, tuple((c.location, c.path) for c in self.locator.copies(r))) for r in records
            ),
        )

    # --- one package on one image ------------------------------------------------------------

    def package_on(self, package: Package, image: str, *, explicit: bool) -> None:
        try:
            dag = build_dag(self.repository, package, image=image, env=self.request.env)
            check_images(dag.topological_order(), image)
        except RepositoryError as error:
            if explicit:
                raise
            self.notes.append(f"{package.name} {package.version} on {image}: {error.message}")
            return
        if self.request.script_filter:
            self._by_key(dag, image)
        else:
            self._loose(package, image)

    def _env(self, package: Package) -> tuple[tuple[str, str], ...]:
        return job_environment(package, self.request.env, self.config, self.repository)

    def _script(self, package: Package) -> str:
        if package.key not in self._scripts:
            self._scripts[package.key] = render_checked(package, self._settings)
        return self._scripts[package.key]

    def _by_key(self, dag: Dag, image: str) -> None:
        digests = self._digests(dag, image)
        if not digests:
            self.notes.append(f"{dag.root.name} {dag.root.version}: never built on {image}")
        for digest in digests:
            reused: dict[PackageKey, tuple[str, ...] | None] = {}
            for node in dag.topological_order():
                needs = dag.transitive_dependencies(node)
                if any(reused.get(n.key) is None for n in needs):
                    reused[node.key] = None  # a build would run a dependency: and then this
                    continue
                key = job_key_of(
                    node,
                    script=self._script(node),
                    image_digest=digest,
                    env=self._env(node),
                    patch_contents=self.repository.patch_contents,
                    input_sha256s=[s for n in needs for s in reused[n.key] or ()],
                )
                is_root = node.key == dag.root.key
                limit = LISTED_CANDIDATES if is_root else BUILD_CANDIDATES
                jobs = [
                    j
                    for j in db_jobs.find_reusable_jobs(self.db, key, limit=limit)
                    if j.package_name == node.name and j.package_version == node.version
                ]
                matches = [self._match(j) for j in jobs]
                chosen = next((m for m in matches[:BUILD_CANDIDATES] if m.complete), None)
                reused[node.key] = (
                    None if chosen is None else tuple(r.sha256 or "" for r, _ in chosen.artifacts)
                )
                if is_root:
                    for match in matches:
                        if match.complete:
                            self._report(node, image, digest, match, chosen=match is chosen)

    def _loose(self, package: Package, image: str) -> None:
        wanted = set(self._env(package))
        for job in reversed(self._jobs_of(package.name, image)):
            if job.package_version != package.version or job.state is not JobState.SUCCEEDED:
                continue
            detail = db_jobs.find_job_detail(self.db, job.uuid)
            if detail is None or set(detail.env) != wanted:
                continue
            self._report(package, image, None, self._match(job), chosen=None)

    def _report(
        self,
        package: Package,
        image: str,
        digest: str | None,
        match: _Match,
        *,
        chosen: bool | None,
    ) -> None:
        for record, places in match.artifacts:
            for location, path in places:
                if location == STAGING:
                    released = record.released_at
                else:
                    released = self._release_date(record, package, location)
                self.found.append(
                    FoundArtifact(
                        package=package.name,
                        version=package.version,
                        image=image,
                        image_digest=digest,
                        path=record.path,
                        file=path,
                        sha256=record.sha256 or "",
                        location=location,
                        release_date=released,
                        job=match.job.uuid,
                        submit=match.job.submit_uuid,
                        chosen=chosen,
                    )
                )
