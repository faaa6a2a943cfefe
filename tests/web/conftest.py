"""Fixtures of the web view's tests: a seeded database on both backends, served for real."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from butido_py.db import groups, jobs, submits
from butido_py.db.database import Database, open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.db.records import JobEdge, PlannedJob, PlannedSubmit
from butido_py.states import DependencyKind, FailureKind, SubmitKind, SubmitState
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.seed import at, seed
from tests.web.server import Server, serving

#: A log line and a package name that would run in a browser if they were not escaped.
HOSTILE_LOG = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
HOSTILE_NAME = "<script>window.__pwned=3</script>"
HOSTILE_SUBMIT = "5b000000-0000-4000-8000-0000000000ee"
HOSTILE_JOB = "10b00000-0000-4000-8000-0000000000ee"
FAILED_LOG = f"#BUTIDO:PHASE:build\n{HOSTILE_LOG}\n#BUTIDO:STATE:ERR:{HOSTILE_LOG}"


def plant_hostile(db: Database) -> None:
    """A finished submit whose package name and log carry markup."""
    submits.record_plan(
        db,
        PlannedSubmit(
            uuid=uuid.UUID(HOSTILE_SUBMIT), submit_time=at(4, 1, 9), image="evil:1",
            package_name=HOSTILE_NAME, package_version="1", commit_hash="e" * 40,
        ),
        [PlannedJob(uuid=uuid.UUID(HOSTILE_JOB), package_name=HOSTILE_NAME, package_version="1",
                    image="evil:1", script_text=f"echo '{HOSTILE_LOG}'\n", env=(),
                    depends_on=(), job_key="e" * 64)],
    )  # fmt: skip
    jobs.mark_queued(db, uuid.UUID(HOSTILE_JOB), at=at(4, 1, 9, 0, 1))
    jobs.mark_running(db, uuid.UUID(HOSTILE_JOB), endpoint="ep1", at=at(4, 1, 9, 0, 2))
    jobs.mark_failed(
        db, uuid.UUID(HOSTILE_JOB), at=at(4, 1, 9, 0, 9), failure_kind=FailureKind.SCRIPT,
        exit_code=1, log_text=FAILED_LOG,
    )  # fmt: skip
    submits.finish_submit(db, uuid.UUID(HOSTILE_SUBMIT), SubmitState.FAILED, at=at(4, 1, 9, 0, 9))


GROUP = "9b000000-0000-4000-8000-000000000001"
RERUN_GROUP = "9b000000-0000-4000-8000-000000000102"
#: The group's submits: zlib 1.3 on Debian 11 (succeeded), on Debian 12 (failed), and the rerun's.
ON_11, ON_12, RERUN_12 = (f"5b000000-0000-4000-8000-0000000000{n}" for n in ("a1", "a2", "a3"))
DEB11, DEB12 = "registry.local/debian:11", "registry.local/debian:12"
#: The group's third image: refused (no submit); its name carries markup too.
REFUSED_IMAGE = "registry.local/<b>old</b>:9"


def group_job(submit: str, n: int) -> uuid.UUID:
    return uuid.UUID(f"10b00000-0000-4000-8000-{submit[-2:]}000000000{n}")


def _group_submit(db: Database, submit: str, image: str, *, failing: bool, minute: int) -> None:
    """zlib 1.3 needing the hostile-named package: both succeed (12 s and 20 s), or the
    dependency fails and zlib is dep_failed."""
    dep, top = group_job(submit, 1), group_job(submit, 2)
    keys = [f"{submit[-2:]}{n}".rjust(64, "0") for n in (1, 2)]
    start = at(1, 2, 10, minute)
    submits.record_plan(
        db,
        PlannedSubmit(uuid=uuid.UUID(submit), submit_time=start, image=image,
                      package_name="zlib", package_version="1.3", commit_hash="f" * 40,
                      triggered_by="carol@ci"),
        [PlannedJob(uuid=dep, package_name=HOSTILE_NAME, package_version="1", image=image,
                    script_text="true\n", env=(), depends_on=(), job_key=keys[0]),
         PlannedJob(uuid=top, package_name="zlib", package_version="1.3", image=image,
                    script_text="true\n", env=(), depends_on=(JobEdge(dep, DependencyKind.BUILD),),
                    job_key=keys[1])],
    )  # fmt: skip
    jobs.mark_queued(db, dep, at=start)
    jobs.mark_running(db, dep, endpoint="ep1", at=start)
    if failing:
        jobs.mark_failed(db, dep, at=start.replace(second=7), failure_kind=FailureKind.SCRIPT,
                         exit_code=1, log_text="boom")  # fmt: skip
        jobs.mark_dep_failed(db, top, at=start.replace(second=7))
        submits.finish_submit(db, uuid.UUID(submit), SubmitState.FAILED, at=start.replace(second=8))
        return
    jobs.mark_succeeded(db, dep, at=start.replace(second=12), exit_code=0, log_text="ok")
    jobs.mark_queued(db, top, at=start.replace(second=12))
    jobs.mark_running(db, top, endpoint="ep1", at=start.replace(second=12))
    jobs.mark_succeeded(db, top, at=start.replace(second=32), exit_code=0, log_text="ok")
    submits.finish_submit(db, uuid.UUID(submit), SubmitState.SUCCEEDED, at=start.replace(second=33))


def plant_groups(db: Database) -> None:
    """A group over three images (one refused, one failed) and a rerun of it still running."""
    groups.record_group(
        db,
        groups.PlannedGroup(
            uuid=uuid.UUID(GROUP), created_at=at(1, 2, 10), package_name="zlib",
            package_version="1.3", images=(DEB11, DEB12, REFUSED_IMAGE), commit_hash="f" * 40,
            env=(("WITH_DOCS", "<i>no</i>"),),
        ),
    )  # fmt: skip
    _group_submit(db, ON_11, DEB11, failing=False, minute=0)
    groups.link_submit(db, uuid.UUID(GROUP), uuid.UUID(ON_11))
    _group_submit(db, ON_12, DEB12, failing=True, minute=1)
    groups.link_submit(db, uuid.UUID(GROUP), uuid.UUID(ON_12))
    groups.record_group(
        db,
        groups.PlannedGroup(
            uuid=uuid.UUID(RERUN_GROUP), created_at=at(1, 3, 9), package_name="zlib",
            package_version="1.3", images=(DEB12,), commit_hash="f" * 40,
            kind=SubmitKind.RERUN, parent_group_uuid=uuid.UUID(GROUP),
        ),
    )  # fmt: skip
    submits.record_plan(
        db,
        PlannedSubmit(uuid=uuid.UUID(RERUN_12), submit_time=at(1, 3, 9), image=DEB12,
                      package_name="zlib", package_version="1.3", commit_hash="f" * 40,
                      kind=SubmitKind.RERUN, parent_submit_uuid=uuid.UUID(ON_12)),
        [PlannedJob(uuid=group_job(RERUN_12, 1), package_name="zlib", package_version="1.3",
                    image=DEB12, script_text="true\n", env=(), depends_on=(), job_key="a3" * 32)],
    )  # fmt: skip
    groups.link_submit(db, uuid.UUID(RERUN_GROUP), uuid.UUID(RERUN_12))


@contextmanager
def seeded_database(backend: str, tmp_path: Path, postgres_url: str) -> Iterator[Database]:
    with fresh_database_url(backend, tmp_path, postgres_url) as url:
        engine = open_engine(url)
        setup_schema(engine)
        engine.dispose()
        db = open_database(url)
        seed(db)
        plant_hostile(db)
        try:
            yield db
        finally:
            db.close()


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> Iterator[Server]:
    """The seeded history, served; shared by a module's tests, which only read."""
    tmp_path = tmp_path_factory.mktemp("web")
    with seeded_database(request.param, tmp_path, postgres_url) as db, serving(db) as server:
        yield server


@dataclass(frozen=True)
class Served:
    server: Server
    db: Database


@pytest.fixture(scope="module", params=BACKENDS)
def grouped(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> Iterator[Served]:
    """Only the groups (plant_groups), served; the module's tests only read."""
    tmp_path = tmp_path_factory.mktemp("web-groups")
    with fresh_database_url(request.param, tmp_path, postgres_url) as url:
        engine = open_engine(url)
        setup_schema(engine)
        engine.dispose()
        db = open_database(url)
        try:
            plant_groups(db)
            with serving(db) as server:
                yield Served(server, db)
        finally:
            db.close()


@pytest.fixture(params=BACKENDS)
def seeded_db(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str
) -> Iterator[Database]:
    """The seeded history for one test that changes it."""
    with seeded_database(request.param, tmp_path, postgres_url) as db:
        yield db
