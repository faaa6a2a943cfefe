"""Benchmark: the pages of `butido serve` on a PostgreSQL database with 1,000,000 jobs.

Creates (or, with --reuse, keeps) the database `butido_bench_web`, filled by bench_db.py's
generator (50,000 submits of 20 jobs, artifacts, env vars, edges, releases), then times the
server-side handling of the home page (with and without filters), a submit page (DAG drawn by
`dot`), a job page, a package page and the JSON API, through the real Starlette application
in-process (no network). Target: home page and submit page under 200 ms. Prints figures; asserts
nothing about time.

    .venv/bin/python bench/bench_web.py [--url postgresql+psycopg://…/butido_test] [--reuse]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_db import DEFAULT_URL, JOBS_PER_SUBMIT, SUBMITS, create_and_seed
from starlette.applications import Starlette

from butido_py.db.database import open_database
from butido_py.db.jobs import JobFilter, list_jobs
from butido_py.db.submits import SubmitFilter, list_submits
from butido_py.states import JobState
from butido_py.web.app import create_app

BENCH_DB = "butido_bench_web"
TARGET_MS = 200


def timed(label: str, action: Callable[[], object], repeat: int = 20) -> float:
    action()  # warm up caches and the connection pool
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    median = statistics.median(samples)
    verdict = "ok" if median < TARGET_MS else "SLOW"
    print(f"  {label:<44} median {median:7.1f} ms  max {max(samples):7.1f} ms  {verdict}")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("BUTIDO_TEST_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--reuse", action="store_true", help="keep an existing bench database")
    parser.add_argument("--seed-only", action="store_true", help="create the database and stop")
    args = parser.parse_args()
    url = create_and_seed(args.url, args.reuse, BENCH_DB)
    if not args.seed_only:
        run_pages(url)


def asgi_get(app: Starlette, path: str) -> tuple[int, bytes]:
    """One GET through the application itself: the server's time, without a network."""
    target, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": target, "raw_path": target.encode(),
        "query_string": query.encode(), "headers": [], "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80), "root_path": "",
    }  # fmt: skip
    status, body = 0, bytearray()

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))  # type: ignore[arg-type]

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return status, bytes(body)


def run_pages(url: str) -> None:
    db = open_database(url)
    app = create_app(db)
    newest = list_submits(db, SubmitFilter(limit=1))[-1]
    failed_job = list_jobs(db, JobFilter(states=[JobState.FAILED], limit=1))[-1]
    pages = {
        "home page /": "/",
        "home page, failed only": "/?failed=1",
        "home page, package filter": "/?package=pkg7",
        "home page, page 2 (before=)": "/?before=2020-12-01T00:00:00%2B00:00",
        "submit page (DAG by dot, 20 jobs)": f"/submits/{newest.uuid}",
        "submit page by an 8-digit prefix": f"/submits/{str(newest.uuid)[:8]}",
        "job page (failed job)": f"/jobs/{failed_job.uuid}",
        "package page": "/packages/pkg7",
        "releases": "/releases",
        "/api/submits": "/api/submits",
        "/api/submits/UUID": f"/api/submits/{newest.uuid}",
    }
    print(f"server time per page, {SUBMITS * JOBS_PER_SUBMIT:,} jobs, target {TARGET_MS} ms:")
    for label, path in pages.items():
        status, _ = asgi_get(app, path)
        assert status == 200, (path, status)
        timed(label, lambda path=path: asgi_get(app, path))  # type: ignore[misc]
    db.close()


if __name__ == "__main__":
    main()
