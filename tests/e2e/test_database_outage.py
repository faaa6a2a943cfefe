"""Database outages in the middle of a build, through a TCP proxy between butido and PostgreSQL
(docs/database.md#outages): a short one is ridden out, a long one ends in a consistent record.

The long outage lasts `LONG_OUTAGE` seconds against `database_retry_seconds = 5`, to keep the
suite fast; the issue's 60 s outage is `BUTIDO_TEST_LONG_OUTAGE=60` (any value longer than twice
the bound takes the same path: the build gives up, and so does the final write).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from butido_py.config.model import EndpointConfig
from butido_py.db import jobs as db_jobs
from butido_py.db import submits as db_submits
from butido_py.db.artifacts import submit_outputs
from butido_py.db.database import Database, open_database
from butido_py.db.invariant import find_contradictions
from butido_py.db.records import SubmitRecord
from butido_py.errors import ExitCode
from butido_py.states import JobState, SubmitState
from tests.helpers.databases import fresh_database_url
from tests.helpers.tcp_proxy import TcpProxy
from tests.helpers.workspace import Workspace, make_workspace

pytestmark = [pytest.mark.docker, pytest.mark.postgres]

LONG_OUTAGE = float(os.environ.get("BUTIDO_TEST_LONG_OUTAGE", "15"))
LEAVES = 4


class Outage:
    def __init__(self, space: Workspace, proxy: TcpProxy, direct: Database) -> None:
        self.space = space
        self.proxy = proxy
        #: The database without the proxy: what the test looks at.
        self.direct = direct


@pytest.fixture
def outage(tmp_path: Path, postgres_url: str, docker_endpoint: EndpointConfig) -> Iterator[Outage]:
    with fresh_database_url("postgresql", tmp_path, postgres_url) as url:
        parts = urlsplit(url)
        proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        netloc = parts.netloc.rsplit(":", 1)[0] + f":{proxy.port}"
        proxied = urlunsplit(parts._replace(netloc=netloc))
        space = make_workspace(tmp_path, [replace(docker_endpoint, maxjobs=2)], proxied)
        config = space.root / "config.toml"
        config.write_text("database_retry_seconds = 5\n" + config.read_text())
        for index in range(LEAVES):
            space.add_package(
                f"leaf{index}",
                build=f'{{{{phase "build"}}}}\nsleep 2\nmkdir -p /outputs\n'
                f'echo "package leaf{index} 1" > /outputs/leaf{index}-1.pkg',
            )
        space.add_package("top", depends=[f"leaf{index} 1" for index in range(LEAVES)])
        space.commit("outage packages")
        direct = open_database(url)
        try:
            yield Outage(space, proxy, direct)
        finally:
            proxy.restore()
            direct.close()
            space.close()
            proxy.close()


def wait_for_running(db: Database) -> SubmitRecord:
    for _ in range(600):
        for submit in db_submits.list_submits(db, db_submits.SubmitFilter()):
            jobs, _ = db_jobs.jobs_of_submit(db, submit.id)
            if any(job.state is JobState.RUNNING for job in jobs):
                return submit
        time.sleep(0.1)
    raise AssertionError("no job started running")


def job_states(db: Database, submit: SubmitRecord) -> list[JobState]:
    jobs, _ = db_jobs.jobs_of_submit(db, submit.id)
    return [job.state for job in jobs]


def test_a_short_outage_mid_build_is_ridden_out(outage: Outage) -> None:
    process = outage.space.popen("build", "top", "1", "-I", "tiny", "--no-reuse")
    submit = wait_for_running(outage.direct)
    outage.proxy.cut()
    time.sleep(3)
    outage.proxy.restore()
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    record = db_submits.find_submit(outage.direct, submit.uuid)
    assert record is not None
    assert record.state is SubmitState.SUCCEEDED
    assert job_states(outage.direct, submit) == [JobState.SUCCEEDED] * (LEAVES + 1)
    outputs = submit_outputs(outage.direct, submit.uuid)
    assert sum(len(job.artifacts) for job in outputs) == LEAVES + 1  # one package each
    assert find_contradictions(outage.direct) == []


@pytest.mark.parametrize("seconds", [LONG_OUTAGE])
def test_a_long_outage_ends_in_a_consistent_record(outage: Outage, seconds: float) -> None:
    process = outage.space.popen("build", "top", "1", "-I", "tiny", "--no-reuse")
    submit = wait_for_running(outage.direct)
    outage.proxy.cut()
    cut_at = time.monotonic()
    try:
        _, stderr = process.communicate(timeout=seconds + 120)
    finally:
        time.sleep(max(0.0, seconds - (time.monotonic() - cut_at)))
        outage.proxy.restore()
    assert "Traceback" not in stderr, stderr
    assert process.returncode == ExitCode.DATABASE, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert re.search(r"database_retry_seconds|unreachable", errors[0]), errors[0]
    # The next command (crash recovery) or the build itself settled the submit.
    after = outage.space.cli("db", "submits")
    assert after.code == 0, after.stderr
    record = db_submits.find_submit(outage.direct, submit.uuid)
    assert record is not None
    assert record.state in (SubmitState.FAILED, SubmitState.LOST)
    assert all(JobState(state).finished for state in job_states(outage.direct, submit))
    assert find_contradictions(outage.direct) == []
