"""`butido build`: check everything, then record and run the plan (DESIGN.md §3).

`build` is the whole operation. `prepare_build` runs every check of butido-reference.md §9.1
(steps 4-11) and the endpoint check of §8.2 before anything is written; `run_prepared` records the
plan and runs it until it ends or the caller's cancel event is set (`rebuild` and `rerun` run
their plans through it too).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from butido_py.app import preflight
from butido_py.app.recovery import reclaim_leases
from butido_py.app.services import Services, Warn
from butido_py.config.images import expand_image
from butido_py.config.model import Config, EndpointConfig
from butido_py.db.database import Database
from butido_py.db.endpoints import UnavailableEndpoints, disabled_endpoint_names
from butido_py.db.records import EndpointRecord
from butido_py.endpoint.checks import check_endpoints
from butido_py.errors import (
    ButidoError,
    ConfigError,
    EndpointError,
    ExitCode,
    RepositoryError,
    ScriptError,
    SourceError,
    did_you_mean,
)
from butido_py.lint import ScriptSettings, find_linter, lint_packages, render_checked
from butido_py.orchestrator.db_scheduler import Reclaim
from butido_py.orchestrator.model import (
    BuildJob,
    BuildListener,
    BuildResult,
    BuildSettings,
    PreparedBuild,
)
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.orchestrator.run import BuildRun
from butido_py.package.model import Package
from butido_py.plan.dag import Dag, build_dag
from butido_py.plan.key_explain import SOURCE_DATE_EPOCH
from butido_py.repository.model import Repository, WorkTree
from butido_py.sources.cache import SourceCache, VerifyStatus, verify_sources
from butido_py.timespec import TimeSpecError, parse_duration

#: How often the run looks at the caller's cancel event (seconds).
CANCEL_POLL = 0.1


@dataclass(frozen=True, slots=True)
class BuildRequest:
    name: str
    version: str | None
    image: str  # full or short name
    env: tuple[tuple[str, str], ...] = ()
    verify: bool = True
    lint: bool = True
    staging_dir: Path | None = None
    shebang: str | None = None
    write_log: bool = False
    endpoints: tuple[str, ...] = ()
    reuse: bool = True
    keep_containers: bool = False
    #: The commit to read the package tree from, and whether a dirty work tree is accepted.
    commit: str = "HEAD"
    allow_dirty: bool = False
    #: Seconds each job may run (`--timeout`, over packages' meta job_timeout and the config).
    timeout: float | None = None
    #: Higher gets endpoint slots first when they are short (`--priority`).
    priority: int = 0


class CanceledBeforeStartError(ButidoError):
    """The cancel event was set while the build was being checked: nothing was recorded."""

    exit_code = ExitCode.INTERRUPTED


def build(
    request: BuildRequest, services: Services, listener: BuildListener, cancel: threading.Event
) -> BuildResult:
    """Check, record and run a build; `cancel` set stops it (its containers are removed and what
    did not finish is recorded `canceled`)."""
    prepared = check_build(request, services)
    remove_orphans(services, prepared.endpoints)
    return run_prepared(prepared, services, listener, cancel)


def remove_orphans(services: Services, endpoints: Sequence[EndpointConfig]) -> None:
    """Endpoints that failed before and answer again: remove the containers they held for
    submits that are over (their builds failed over, ended or were recovered meanwhile)."""
    from butido_py.app.endpoints import remove_ended_containers  # noqa: PLC0415
    from butido_py.db.endpoints import list_endpoints  # noqa: PLC0415

    failing = {r.name for r in list_endpoints(services.database()) if r.consecutive_failures}
    for endpoint in endpoints:
        if endpoint.name not in failing:
            continue
        try:
            removed = remove_ended_containers(services, endpoint)
        except ButidoError as error:
            services.warn(f"endpoint {endpoint.name!r}: looking for left-over containers: {error}")
            continue
        if removed:
            services.warn(
                f"endpoint {endpoint.name!r} answers again: removed {removed} container(s) of "
                "submits that are over"
            )


def check_build(request: BuildRequest, services: Services) -> PreparedBuild:
    """Every check of `build` and its plan, with the services' configuration and database."""
    # The commit is built; a differing work tree matters only where the plan reads it.
    repository = services.repository(request.commit, request.allow_dirty, changes=WorkTree.RECORD)
    database = services.database()
    name = services.config.containers.git_commit_hash
    if name:
        services.warn(
            f"containers.git_commit_hash puts the commit into every job's environment ({name}): "
            "no job of another commit can be reused"
        )
    return prepare_build(
        request,
        config=services.config,
        repository=repository,
        warn=services.warn,
        disabled_endpoints=lambda: disabled_endpoint_names(database),
    )


def run_prepared(
    prepared: PreparedBuild, services: Services, listener: BuildListener, cancel: threading.Event
) -> BuildResult:
    """Record and run a checked plan; a watcher thread passes `cancel` on to the run."""
    if cancel.is_set():
        raise CanceledBeforeStartError(
            f"canceled before submit {prepared.submit_uuid} started: nothing was recorded"
        )
    preflight.check_build(prepared, services.warn)
    database = services.database()
    run = run_build(
        prepared,
        database,
        listener,
        reclaim=lambda: reclaim_leases(database, services.config, warn=services.warn),
    )
    return run_until_canceled(run, cancel)


def run_until_canceled(run: BuildRun, cancel: threading.Event) -> BuildResult:
    """`run.run()`, with a watcher thread that passes `cancel` on to the run."""
    done = threading.Event()

    def watch() -> None:
        while not cancel.wait(CANCEL_POLL):
            if done.is_set():
                return
        run.cancel()

    watcher = threading.Thread(target=watch, name="cancel-watcher", daemon=True)
    watcher.start()
    try:
        return run.run()
    finally:
        done.set()
        watcher.join()


def prepare_build(
    request: BuildRequest,
    *,
    config: Config,
    repository: Repository,
    warn: Warn,
    disabled_endpoints: Callable[[], frozenset[str]] = frozenset,
) -> PreparedBuild:
    """Every check, in butido's order; raises a `ButidoError` naming what is wrong.

    `disabled_endpoints` is asked (once, after the repository checks) for the endpoints that must
    receive no job."""
    root = select_package(repository, request.name, request.version)
    image = expand_image(config, request.image)
    dag = build_dag(repository, root, image=image, env=request.env)
    packages = list(dag.topological_order())
    repository.refuse_changes_read_by(packages, request.commit)
    cache = SourceCache(config.source_cache)
    if request.verify:
        _verify_sources(cache, packages)
    else:
        warn("source verification is switched off (--no-verify)")
    settings = ScriptSettings(
        phases=config.available_phases,
        shebang=request.shebang or config.shebang,
        strict=config.strict_script_interpolation,
    )
    scripts = _scripts(packages, settings, config, repository, lint=request.lint, warn=warn)
    check_images(packages, image)
    envs = {p.key: job_environment(p, request.env, config, repository) for p in packages}
    if config.containers.check_env_names:
        for package in packages:
            check_env_names(package, envs[package.key], config.containers.allowed_env)
    endpoints = select_endpoints(config, request.endpoints, disabled_endpoints())
    checked = check_endpoints(endpoints, config.docker, image)
    for name, error in checked.down.items():
        warn(f"endpoint {name!r} is left out of this build: {error.message}")
    endpoints = tuple(e for e in endpoints if e.name in checked.image_ids)
    image_ids = checked.image_ids
    submit_uuid, staging_dir = _staging(config, request.staging_dir)
    return PreparedBuild(
        submit_uuid=submit_uuid,
        root=root,
        image=image,
        image_ids=image_ids,
        endpoints=endpoints,
        commit=repository.commit,
        commit_time=repository.commit_time,
        dirty=repository.dirty,
        cli_env=request.env,
        jobs=_jobs(dag, packages, scripts, envs, cache),
        patch_contents=dict(repository.patch_contents),
        staging_dir=staging_dir,
        settings=_settings(request, config, staging_dir, packages),
    )


def _settings(
    request: BuildRequest, config: Config, staging_dir: Path, packages: Sequence[Package]
) -> BuildSettings:
    return BuildSettings(
        reuse=request.reuse,
        keep_containers=request.keep_containers,
        write_log=request.write_log,
        log_dir=config.log_dir,
        build_error_lines=config.build_error_lines,
        max_log_size=config.max_log_size,
        staging_roots=(config.staging, staging_dir.parent),
        release_dirs=tuple(config.releases_root / s for s in config.release_stores),
        job_attempts=config.docker.job_attempts,
        quarantine_after=config.docker.quarantine_after,
        quarantine_seconds=config.docker.quarantine_seconds,
        heartbeat_timeout=config.heartbeat_timeout,
        job_timeouts=job_timeouts(packages, request.timeout, config.docker.job_timeout),
        priority=request.priority,
        max_output_size=config.max_output_size,
    )


#: The key of `[meta]` in pkg.toml that gives a package its own job timeout (butido's pkg.toml
#: has no timeout key; `[meta]` is free-form and is no component of a job key).
TIMEOUT_META_KEY = "job_timeout"


def job_timeouts(
    packages: Sequence[Package], forced: float | None, default: float | None
) -> dict[tuple[str, str], float]:
    """Each package's timeout in seconds: `--timeout` (`forced`), else its meta `job_timeout`,
    else `docker.job_timeout` (`default`); packages without any are left out (no limit)."""
    found: dict[tuple[str, str], float] = {}
    for package in packages:
        seconds = forced if forced is not None else _meta_timeout(package)
        seconds = seconds if seconds is not None else default
        if seconds is not None:
            found[package.key] = seconds
    return found


def _meta_timeout(package: Package) -> float | None:
    text = dict(package.meta or ()).get(TIMEOUT_META_KEY)
    if text is None:
        return None
    try:
        seconds = parse_duration(text).total_seconds()
    except TimeSpecError as error:
        raise RepositoryError(
            f"package {package} ({package.pkg_toml}): meta {TIMEOUT_META_KEY}: {error}",
            hint='give a duration such as "90m" or "2h"',
        ) from error
    if seconds <= 0:
        raise RepositoryError(
            f"package {package} ({package.pkg_toml}): meta {TIMEOUT_META_KEY} must be longer "
            f"than 0 s, got {text!r}",
            hint='give a duration such as "90m" or "2h"',
        )
    return seconds


def run_build(
    prepared: PreparedBuild,
    database: Database,
    listener: BuildListener,
    *,
    reclaim: Reclaim | None = None,
) -> BuildRun:
    """The run object (call `.run()`; `.cancel()` stops it). Its jobs take endpoint slots as
    leases in `database`, shared with every butido process; `reclaim` recovers the builds that
    died holding some."""
    return BuildRun(prepared, BuildRecorder(database), listener, reclaim=reclaim)


# --- checks ---------------------------------------------------------------------------------------


def _unknown_package(repository: Repository, name: str) -> str:
    every = "`butido find-pkg .` lists every package"
    close = did_you_mean(name, {p.name for p in repository.packages})
    return f"{close} ({every})" if close else every


def select_package(repository: Repository, name: str, version: str | None) -> Package:
    if version is not None:
        found = repository.find(name, version)
        if found is not None:
            return found
        versions = ", ".join(p.version for p in repository.versions_of(name))
        raise RepositoryError(
            f"package {name} {version.lstrip('=')} not found in commit {repository.commit[:12]}",
            hint=f"versions of {name}: {versions}"
            if versions
            else _unknown_package(repository, name),
        )
    candidates = repository.versions_of(name)
    if not candidates:
        raise RepositoryError(
            f"package {name} not found in commit {repository.commit[:12]}",
            hint=_unknown_package(repository, name),
        )
    if len(candidates) > 1:
        versions = ", ".join(p.version for p in candidates)
        raise RepositoryError(
            f"package {name} has {len(candidates)} versions; cannot decide which one to build",
            hint=f"name the version: butido build {name} VERSION (one of {versions})",
        )
    return candidates[0]


def check_images(packages: Sequence[Package], image: str) -> None:
    for package in packages:
        if package.allowed_images is not None and image not in package.allowed_images:
            raise RepositoryError(
                f"package {package} ({package.pkg_toml}) may not be built on {image}: "
                "it is not in allowed_images",
                hint=f"allowed images: {', '.join(package.allowed_images) or 'none'}",
            )
        if package.denied_images is not None and image in package.denied_images:
            raise RepositoryError(
                f"package {package} ({package.pkg_toml}) may not be built on {image}: "
                "it is in denied_images",
                hint="choose another image with -I",
            )


def job_environment(
    package: Package, cli_env: Sequence[tuple[str, str]], config: Config, repository: Repository
) -> tuple[tuple[str, str], ...]:
    """Package `environment`, `-E` over it, the git variables, SOURCE_DATE_EPOCH."""
    env = dict(package.environment or ())
    env.update(cli_env)
    containers = config.containers
    if containers.git_author:
        if repository.git_author is None:
            raise RepositoryError(
                f"containers.git_author is set ({containers.git_author}) but the repository has "
                "no git user.name",
                hint="set it with `git config user.name NAME`, or remove containers.git_author",
            )
        env[containers.git_author] = repository.git_author
    if containers.git_commit_hash:
        env[containers.git_commit_hash] = repository.commit
    epoch = repository.source_date_epoch(package, containers.source_date_epoch)
    env[SOURCE_DATE_EPOCH] = str(epoch)
    return tuple(env.items())


def check_env_names(
    package: Package, env: Sequence[tuple[str, str]], allowed: Sequence[str]
) -> None:
    for name, _ in env:
        if name != SOURCE_DATE_EPOCH and name not in allowed:
            raise ConfigError(
                f"environment variable name not allowed: {name} (package {package})",
                hint=f"add {name!r} to containers.allowed_env in config.toml, or do not set it",
            )


def select_endpoints(
    config: Config, names: Sequence[str], disabled: frozenset[str] = frozenset()
) -> tuple[EndpointConfig, ...]:
    """The endpoints to run on: those named by `--endpoint` (default: every configured one),
    none of them disabled (`butido endpoint disable`) or quarantined (`disabled` is then an
    `UnavailableEndpoints` naming the quarantined ones)."""
    quarantined = disabled.quarantined if isinstance(disabled, UnavailableEndpoints) else {}
    configured = config.docker.endpoints
    if names:
        known = {e.name for e in configured}
        for name in names:
            if name not in known:
                raise ConfigError(
                    f"unknown endpoint {name!r}",
                    hint=did_you_mean(name, known)
                    or f"configured endpoints: {', '.join(sorted(known)) or 'none'}",
                )
            if name in quarantined:
                raise EndpointError(
                    f"endpoint {name!r} is {_quarantine(quarantined[name])}",
                    hint=f"wait until then, or `butido endpoint enable {name}` once its engine "
                    "works again",
                )
            if name in disabled:
                raise EndpointError(
                    f"endpoint {name!r} is disabled",
                    hint=f"butido endpoint enable {name}",
                )
        configured = tuple(e for e in configured if e.name in set(names))
    if not configured:
        raise ConfigError(
            "no Docker endpoint is configured",
            hint="configure [docker.endpoints.NAME] in config.toml (or set DOCKER_HOST)",
        )
    enabled = tuple(e for e in configured if e.name not in disabled)
    if not enabled and any(e.name in quarantined for e in configured):
        off = ", ".join(
            f"{e.name}: {_quarantine(quarantined[e.name])}" if e.name in quarantined
            else f"{e.name}: disabled"
            for e in configured
        )  # fmt: skip
        raise EndpointError(
            f"every endpoint is disabled or quarantined ({off}): no job can run",
            hint="wait until a quarantine ends, or `butido endpoint enable NAME` once its engine "
            "works again (`butido endpoint list` shows them)",
        )
    if not enabled:
        off = ", ".join(e.name for e in configured)
        raise EndpointError(
            f"every endpoint is disabled ({off}): no job can run",
            hint=f"butido endpoint enable {configured[0].name}",
        )
    return enabled


def _quarantine(record: EndpointRecord) -> str:
    until = record.quarantined_until
    when = until.strftime("%Y-%m-%d %H:%M:%S UTC") if until is not None else "further notice"
    return f"quarantined until {when} after {record.consecutive_failures} infrastructure failures"


def _verify_sources(cache: SourceCache, packages: Sequence[Package]) -> None:
    bad = [r for r in verify_sources(cache.entries(packages)) if not r.ok]
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        first = bad[0].entry.package
        # A file that is there but wrong is skipped by a plain `source download`: --force.
        fetch = (
            f"`butido source download {first.name} ={first.version}` fetches it"
            if bad[0].status is VerifyStatus.MISSING
            else f"`butido source download --force {first.name} ={first.version}` fetches it "
            f"again (or correct the hash in {first.pkg_toml or 'pkg.toml'})"
        )
        raise SourceError(
            f"{bad[0].entry.label}: {bad[0].message}{more}",
            hint=f"{fetch}; `butido source verify` lists every problem; --no-verify skips "
            "this check",
        )


def _scripts(
    packages: Sequence[Package],
    settings: ScriptSettings,
    config: Config,
    repository: Repository,
    *,
    lint: bool,
    warn: Warn,
) -> dict[tuple[str, str], str]:
    scripts = {p.key: render_checked(p, settings) for p in packages}
    if not lint:
        return scripts
    if config.script_linter is None:
        warn("no script_linter configured: the scripts are not linted")
        return scripts
    linter = find_linter(config.script_linter, repository.root)
    failed = [r for r in lint_packages(packages, linter=linter, settings=settings) if not r.ok]
    if failed:
        first = failed[0]
        output = (first.stdout + first.stderr).strip().splitlines()
        detail = f": {output[0]}" if output else ""
        raise ScriptError(
            f"linting failed for {', '.join(str(r.package) for r in failed)}{detail}",
            hint="`butido lint NAME` shows the linter's output; --no-lint skips linting",
        )
    return scripts


def _staging(config: Config, staging_dir: Path | None) -> tuple[uuid.UUID, Path]:
    if staging_dir is None:
        submit = uuid.uuid4()
        return submit, config.staging / str(submit)
    try:
        submit = uuid.UUID(staging_dir.name)
    except ValueError:
        raise ConfigError(
            f"--staging-dir {staging_dir}: the directory name must be a UUID (the submit's)",
            hint=f"use e.g. {config.staging / str(uuid.uuid4())}",
        ) from None
    return submit, staging_dir.resolve()


def _jobs(
    dag: Dag,
    packages: Sequence[Package],
    scripts: dict[tuple[str, str], str],
    envs: dict[tuple[str, str], tuple[tuple[str, str], ...]],
    cache: SourceCache,
) -> tuple[BuildJob, ...]:
    uuids = {p.key: uuid.uuid4() for p in packages}
    return tuple(
        BuildJob(
            uuid=uuids[p.key],
            package=p,
            script=scripts[p.key],
            env=envs[p.key],
            needs=tuple(
                dict.fromkeys(
                    (uuids[e.dependency.key], e.kind) for e in dag.dependencies_of(p)
                ).keys()
            ),
            transitive=tuple(uuids[d.key] for d in dag.transitive_dependencies(p)),
            sources=tuple(cache.entries([p])),
        )
        for p in packages
    )
