# ruff: noqa: S608 - the SQL below is built from constants of this file only
"""Benchmark: the `db` queries on a PostgreSQL database with 1,000,000 jobs.

Creates (or, with --reuse, keeps) the database `butido_bench` next to the test database, fills it
server-side with `INSERT … SELECT generate_series` (50,000 submits of 20 jobs, one artifact and one
env var per job, the plan edges, 10,000 releases), then times the query functions behind
`db jobs`, `db jobs --of-submit`, `db submit UUID` and `db log-of UUID`, and the same commands
through the real CLI (in-process, and as a fresh `python -m butido_py` process). Target: each query
under 100 ms. Prints figures; asserts nothing about time.

    .venv/bin/python bench/bench_db.py [--url postgresql+psycopg://…/butido_test] [--reuse]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from butido_py.cli.context import AppContext
from butido_py.cli.main import run
from butido_py.db import jobs, submits
from butido_py.db.database import open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.states import JobState

DEFAULT_URL = "postgresql+psycopg://butido:butido@127.0.0.1:5432/butido_test"
BENCH_DB = "butido_bench"
SUBMITS, JOBS_PER_SUBMIT = 50_000, 20

SEED_SQL = [
    "insert into images (name) select 'registry.local/distro:' || i from generate_series(1, 5) i",
    "insert into endpoints (name) select 'ep' || i from generate_series(1, 4) i",
    (
        "insert into packages (name, version) select 'pkg' || (i % 1000), '1.' || (i / 1000) "
        "from generate_series(0, 1999) i"
    ),
    (
        "insert into githashes (hash) select md5(i::text) || substr(md5((i+1)::text), 1, 8) "
        "from generate_series(1, 10000) i"
    ),
    (
        "insert into envvars (name, value) select 'VAR' || (i % 10), 'v' || i "
        "from generate_series(1, 100) i"
    ),
    f"""insert into submits (uuid, submit_time, requested_image_id, requested_package_id,
        repo_hash_id, kind, state, finished_at, dirty, heartbeat_at)
      select gen_random_uuid(), timestamptz '2020-01-01 00:00:00+00' + i * interval '10 minutes',
        i % 5 + 1, i % 2000 + 1, i % 10000 + 1, 'build', 'succeeded',
        timestamptz '2020-01-01 00:09:00+00' + i * interval '10 minutes', false,
        timestamptz '2020-01-01 00:09:00+00' + i * interval '10 minutes'
      from generate_series(1, {SUBMITS}) i""",
    f"""insert into jobs (submit_id, endpoint_id, package_id, image_id, container_hash,
        script_text, log_text, uuid, state, exit_code, queued_at, started_at, finished_at,
        job_key, attempt)
      select (i - 1) / {JOBS_PER_SUBMIT} + 1, i % 4 + 1, i % 2000 + 1,
        ((i - 1) / {JOBS_PER_SUBMIT} + 1) % 5 + 1, md5(i::text) || md5((i + 7)::text),
        '#!/bin/bash' || chr(10) || 'make -j4' || chr(10),
        repeat('building something rather verbose, line after line' || chr(10), 40)
          || '#BUTIDO:STATE:OK',
        gen_random_uuid(),
        case when i % 50 = 0 then 'failed' else 'succeeded' end,
        case when i % 50 = 0 then 1 else 0 end,
        timestamptz '2020-01-01 00:00:00+00' + i * interval '30 seconds',
        timestamptz '2020-01-01 00:00:01+00' + i * interval '30 seconds',
        timestamptz '2020-01-01 00:00:21+00' + i * interval '30 seconds',
        md5(i::text) || md5((i + 1)::text), 1
      from generate_series(1, {SUBMITS * JOBS_PER_SUBMIT}) i""",
    f"""insert into job_dependencies (job_id, depends_on_job_id, kind)
      select id, id - 1, 'build' from jobs where (id - 1) % {JOBS_PER_SUBMIT} <> 0""",
    """insert into artifacts (path, job_id, sha256, size)
      select 'pkg' || (id % 1000) || '-1.' || (id % 2000 / 1000) || '.tar.gz', id,
        md5(id::text) || md5((id + 3)::text), 1000 + id % 5000
      from jobs where state = 'succeeded'""",
    "insert into job_envs (job_id, env_id) select id, id % 100 + 1 from jobs",
    "insert into release_stores (store_name) values ('stable'), ('testing')",
    """insert into releases (artifact_id, release_date, release_store_id)
      select a.id, timestamptz '2021-01-01 00:00:00+00' + a.id * interval '1 minute', a.id % 2 + 1
      from artifacts a where a.id % 98 = 0""",
    # A package and an env var that only three old jobs have: the filters must not walk the
    # whole history from the newest submit to find them.
    "insert into packages (name, version) values ('rarepkg', '1')",
    (
        "update jobs set package_id = (select id from packages where name = 'rarepkg') "
        "where id in (100, 200, 300)"
    ),
    "insert into envvars (name, value) values ('RARE', 'yes')",
    (
        "insert into job_envs (job_id, env_id) "
        "select j, (select id from envvars where name = 'RARE') "
        "from unnest(array[100, 200, 300]) j"
    ),
    "analyze",
]


def bench_url(base: str, name: str = BENCH_DB) -> str:
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_and_seed(base_url: str, reuse: bool, name: str = BENCH_DB) -> str:
    """The database `name`, created and filled with SEED_SQL (kept as it is with `reuse`)."""
    url = bench_url(base_url, name)
    with psycopg.connect(libpq(base_url), autocommit=True) as admin:
        exists = admin.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if exists and reuse:
            print(f"reusing database {name}")
            return url
        if exists:
            admin.execute(f"drop database {name} with (force)")
        admin.execute(f"create database {name}")
    engine = open_engine(url)
    setup_schema(engine)
    engine.dispose()
    started = time.perf_counter()
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        for statement in SEED_SQL:
            step = time.perf_counter()
            connection.execute(statement.encode())
            print(f"  {time.perf_counter() - step:7.1f} s  {' '.join(statement.split())[:70]}")
    print(f"seeded {SUBMITS * JOBS_PER_SUBMIT:,} jobs in {time.perf_counter() - started:.0f} s")
    return url


def timed(label: str, action: Callable[[], object], repeat: int = 20) -> float:
    action()  # warm up caches and the connection pool
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    median = statistics.median(samples)
    verdict = "ok" if median < 100 else "SLOW"
    print(f"  {label:<44} median {median:7.1f} ms  max {max(samples):7.1f} ms  {verdict}")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("BUTIDO_TEST_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--reuse", action="store_true", help="keep an existing butido_bench")
    args = parser.parse_args()
    url = create_and_seed(args.url, args.reuse)
    db = open_database(url)
    with psycopg.connect(libpq(url)) as connection:
        row = connection.execute(
            "select s.uuid, j.uuid from jobs j join submits s on s.id = j.submit_id "
            "where j.id = %s",
            (SUBMITS * JOBS_PER_SUBMIT // 2,),
        ).fetchone()
    assert row is not None
    submit_uuid, job_uuid = uuid.UUID(str(row[0])), uuid.UUID(str(row[1]))

    def show_submit() -> object:
        found = submits.find_submit(db, submit_uuid)
        assert found is not None
        return submits.submit_env(db, found.id), jobs.jobs_of_submit(db, found.id)

    print("query functions:")
    timed("db jobs (newest 10)", lambda: jobs.list_jobs(db, jobs.JobFilter(limit=10)))
    timed("db jobs -L 0 --of-submit UUID", lambda: jobs.list_jobs(
        db, jobs.JobFilter(submit_uuid=submit_uuid)))  # fmt: skip
    timed("db jobs -p pkg7 (newest 10)", lambda: jobs.list_jobs(
        db, jobs.JobFilter(package="pkg7", limit=10)))  # fmt: skip
    timed("db jobs --older-than 2020-06-01 (newest 10)", lambda: jobs.list_jobs(
        db, jobs.JobFilter(older_than=_date("2020-06-01"), limit=10)))  # fmt: skip
    timed("db jobs --state failed (newest 10)", lambda: jobs.list_jobs(
        db, jobs.JobFilter(states=(JobState.FAILED,), limit=10)))  # fmt: skip
    timed("db jobs -E VAR3=v13 (newest 10)", lambda: jobs.list_jobs(
        db, jobs.JobFilter(env=("VAR3", "v13"), limit=10)))  # fmt: skip
    timed("db jobs -p rarepkg (3 old jobs)", lambda: jobs.list_jobs(
        db, jobs.JobFilter(package="rarepkg", limit=10)))  # fmt: skip
    timed("db jobs -E RARE=yes (3 old jobs)", lambda: jobs.list_jobs(
        db, jobs.JobFilter(env=("RARE", "yes"), limit=10)))  # fmt: skip
    timed("db jobs -p no-such-package", lambda: jobs.list_jobs(
        db, jobs.JobFilter(package="no-such-package", limit=10)))  # fmt: skip
    timed("db submit UUID", show_submit)
    timed("db log-of UUID", lambda: jobs.find_log(db, job_uuid))
    db.close()

    commands = {
        "db jobs": ["db", "jobs"],
        "db jobs --of-submit UUID": ["db", "jobs", "-L", "0", "--of-submit", str(submit_uuid)],
        "db submit UUID": ["db", "submit", str(submit_uuid)],
        "db log-of UUID": ["db", "log-of", str(job_uuid)],
    }
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch)
        (repo / ".git").mkdir()
        (repo / "config.toml").write_text('compatibility = 1\navailable_phases = ["build"]\n')
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("BUTIDO_", "XDG_"))}
        environ.update({"BUTIDO_DATABASE_URL": url, "HOME": scratch})
        print("CLI in-process (config, connect, schema check, query, render):")
        os.environ.update(environ)
        os.chdir(repo)
        for label, argv in commands.items():
            timed(label, functools.partial(_run_inline, argv), repeat=10)
        print("CLI as a new process (includes Python start-up and imports):")
        for label, argv in commands.items():
            command = [sys.executable, "-m", "butido_py", *argv]
            spawn = functools.partial(
                subprocess.run, command, env=environ, cwd=repo, capture_output=True, check=True
            )
            timed(label, spawn, repeat=3)


def _date(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _run_inline(argv: list[str]) -> None:
    app = AppContext()
    with contextlib.redirect_stdout(io.StringIO()):
        code = run(app, argv)
    if app._database is not None:
        app._database.close()
    assert code == 0


if __name__ == "__main__":
    main()
