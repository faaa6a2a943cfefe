"""Fixtures of the web view's tests: a seeded database on both backends, served for real."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from butido_py.db import jobs, submits
from butido_py.db.database import Database, open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.db.records import PlannedJob, PlannedSubmit
from butido_py.states import FailureKind, SubmitState
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


@pytest.fixture(params=BACKENDS)
def seeded_db(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str
) -> Iterator[Database]:
    """The seeded history for one test that changes it."""
    with seeded_database(request.param, tmp_path, postgres_url) as db:
        yield db
