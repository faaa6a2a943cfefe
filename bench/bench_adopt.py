# ruff: noqa: S608 - the SQL below is built from constants of this file only
"""Benchmark: `db setup --adopt-butido` on a butido (Rust) database of N jobs.

Fills a private schema of the PostgreSQL test database with butido's schema (as
tests/helpers/butido_rust.py creates it) and rows made server-side with `generate_series`:
N / 20 submits of 20 jobs, each job with a log of ~40 lines, two env vars and one artifact, and a
release for every tenth artifact. Then times the adoption (one transaction) and prints rows per
second. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_adopt.py [--jobs 100000 1000000] [--url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from tests.helpers.butido_rust import create_butido_schema

DEFAULT_URL = "postgresql+psycopg://butido:butido@127.0.0.1:5432/butido_test"
JOBS_PER_SUBMIT = 20
LOG = "\n".join(f"line {i} of the build output, compiling something.c" for i in range(40))


def seed(url: str, jobs: int) -> None:
    submits = max(1, jobs // JOBS_PER_SUBMIT)
    statements = [
        "insert into images (name) values ('debian:bookworm'), ('debian:trixie')",
        "insert into endpoints (name) values ('ep1'), ('ep2')",
        "insert into release_stores (store_name) values ('stable')",
        "insert into githashes (hash) select md5(i::text) from generate_series(1, 1000) i",
        (
            "insert into envvars (name, value) select 'VAR' || i, 'v' || i "
            "from generate_series(1, 50) i"
        ),
        (
            "insert into packages (name, version) select 'pkg' || i, '1.' || (i % 7) "
            "from generate_series(1, 2000) i"
        ),
        (
            f"insert into submits (uuid, submit_time, requested_image_id, requested_package_id, "
            f"repo_hash_id) select gen_random_uuid(), now() - (i || ' minutes')::interval, "
            f"1 + i % 2, 1 + i % 2000, 1 + i % 1000 from generate_series(1, {submits}) i"
        ),
        (
            f"insert into jobs (submit_id, endpoint_id, package_id, image_id, container_hash, "
            f"script_text, log_text, uuid) select 1 + i / {JOBS_PER_SUBMIT}, 1 + i % 2, "
            f"1 + i % 2000, 1, md5(i::text), '#!/bin/bash' || chr(10) || 'make', "
            f"case when i % 50 = 0 then :log || chr(10) || '#BUTIDO:STATE:ERR:failed' "
            f"else :log || chr(10) || '#BUTIDO:STATE:OK' end, gen_random_uuid() "
            f"from generate_series(0, {submits * JOBS_PER_SUBMIT - 1}) i"
        ),
        (
            "insert into job_envs (job_id, env_id) select id, 1 + id % 50 from jobs "
            "union all select id, 1 + (id + 1) % 50 from jobs"
        ),
        (
            "insert into artifacts (path, job_id) select 'pkg-' || id || '.tar.gz', id from jobs "
            "where log_text not like '%STATE:ERR%'"
        ),
        (
            "insert into releases (artifact_id, release_date, release_store_id) "
            "select id, now(), 1 from artifacts where id % 10 = 0"
        ),
    ]
    engine = open_engine(url)
    try:
        with engine.begin() as connection:
            create_butido_schema(connection)
            for statement in statements:
                params = {"log": LOG} if ":log" in statement else {}
                connection.execute(text(statement), params)
            connection.execute(text("analyze"))
    finally:
        engine.dispose()


def bench(base_url: str, jobs: int) -> None:
    schema = f"bench_adopt_{uuid.uuid4().hex[:8]}"
    admin = open_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f"create schema {schema}"))
    url = f"{base_url}?options={quote(f'-csearch_path={schema}')}"
    try:
        started = time.monotonic()
        seed(url, jobs)
        seeded = time.monotonic() - started
        engine = open_engine(url)
        try:
            started = time.monotonic()
            result = setup_schema(engine, adopt_butido=True)
            seconds = time.monotonic() - started
        finally:
            engine.dispose()
        assert result.adopted is not None
        rows = sum(result.adopted.rows.values())
        print(
            f"{jobs:>9,} jobs: seeded in {seeded:.1f} s; adopted {rows:,} rows in {seconds:.2f} s "
            f"({rows / seconds:,.0f} rows/s); jobs {result.adopted.jobs_by_state}"
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args()
    for jobs in args.jobs:
        bench(args.url, jobs)


if __name__ == "__main__":
    main()
