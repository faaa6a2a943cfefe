"""Benchmark: endpoint slots shared by several butido processes through the database (DESIGN.md §7,
§8).

1. Throughput: JOBS trivial jobs (one `build` phase that writes one file) from four concurrent
   `butido build --no-reuse` processes (a quarter each) over two endpoints with `maxjobs` each,
   against raw `docker run --rm` of as many containers at the same total parallelism (maxjobs per
   endpoint). Target: >= 85 % of the raw throughput.
2. Slot-acquisition latency: median and p95 of one acquire + release (queue the request, grant
   the lease under the endpoint's lock, give it back) without contention, and with 4 processes
   doing the same at once on one endpoint (maxjobs 4, so the figure is the cost of the
   transactions and the lock, not time spent queueing for a slot).

Both on SQLite and on PostgreSQL (a private schema in the database of BUTIDO_BENCH_POSTGRES_URL,
default the test database). Needs the services of scripts/services (both Docker daemons, image
butido-tiny:latest). Prints figures; asserts nothing.

    .venv/bin/python bench/bench_farm.py [--jobs 1000] [--maxjobs 2] [--samples 300]
                                         [--databases sqlite postgresql] [--only throughput|latency]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select, text

from butido_py.db import leases
from butido_py.db.database import open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.db.models import JOBS, SUBMITS

sys.path.insert(0, str(Path(__file__).parent))
from bench_build import (
    CONFIG,
    IMAGE,
    TRIVIAL_ROOT,
    endpoints_toml,
    raw_docker_runs,
)

from butido_py.repository.git_init import init_and_commit

POSTGRES_URL = os.environ.get(
    "BUTIDO_BENCH_POSTGRES_URL", "postgresql+psycopg://butido:butido@127.0.0.1:5432/butido_test"
)
PROCESSES = 4


@contextmanager
def database_url(backend: str, scratch: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{scratch / f'farm-{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    admin = open_engine(POSTGRES_URL)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f"create schema {schema}"))
    try:
        yield f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


# --- 1. throughput --------------------------------------------------------------------------------


def farm_repo(root: Path, data: Path, url: str, jobs: int, maxjobs: int) -> None:
    root.mkdir()
    (root / "pkg.toml").write_text(TRIVIAL_ROOT)
    per_process = [jobs // PROCESSES + (1 if i < jobs % PROCESSES else 0) for i in range(4)]
    for index, count in enumerate(per_process):
        leaves = [f"p{index}leaf{i:04d}" for i in range(count - 1)]
        for leaf in leaves:
            (root / leaf).mkdir()
            (root / leaf / "pkg.toml").write_text(f'name = "{leaf}"\nversion = "1"\n')
        deps = ", ".join(f'"{leaf} 1"' for leaf in leaves)
        (root / f"all{index}").mkdir()
        (root / f"all{index}" / "pkg.toml").write_text(
            f'name = "all{index}"\nversion = "1"\n[dependencies]\nruntime = [{deps}]\n'
        )
    config = CONFIG.format(
        data=data, phases='["build"]', image=IMAGE, endpoints=endpoints_toml(maxjobs, two=True)
    ).replace(f'database_url = "sqlite:///{data}/bench.sqlite"', f'database_url = "{url}"')
    (root / "config.toml").write_text(config)
    init_and_commit(root, "bench repository")
    engine = open_engine(url)
    setup_schema(engine)
    engine.dispose()


def farm_build(root: Path) -> float:
    """Four `butido build` processes at once; seconds until the last one ended."""
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BUTIDO_", "XDG_"))},
        "HOME": str(root.parent),
        "XDG_DATA_HOME": str(root.parent / "xdg"),
        "NO_COLOR": "1",
    }
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "butido_py",
                "build",
                f"all{i}",
                "1",
                "-I",
                "tiny",
                "--no-reuse",
                "--no-lint",
                "--no-verify",
            ],
            cwd=root,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    for process in processes:
        _, stderr = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"butido build failed ({process.returncode}): {stderr[-2000:]}")
    return time.monotonic() - started


def bench_throughput(scratch: Path, backend: str, jobs: int, maxjobs: int) -> None:
    root, data = scratch / f"farm-{backend}", scratch / f"farm-{backend}-data"
    with database_url(backend, scratch) as url:
        farm_repo(root, data, url, jobs, maxjobs)
        butido = farm_build(root)
    raw = raw_docker_runs(jobs, maxjobs)
    print(f"Throughput on {backend}: {jobs} trivial jobs from {PROCESSES} processes, two endpoints")
    print(f"  (maxjobs {maxjobs} each: total parallelism {2 * maxjobs})")
    print(f"  4 butido processes: {butido:7.2f} s  {jobs / butido:6.2f} jobs/s")
    print(f"  raw docker run:     {raw:7.2f} s  {jobs / raw:6.2f} jobs/s")
    print(f"  butido_py reaches {100 * raw / butido:.1f} % of raw throughput (target >= 85 %)")


# --- 2. slot-acquisition latency ------------------------------------------------------------------


def latency_fixture(url: str, workers: int) -> tuple[int, list[uuid.UUID]]:
    """A running submit with one job per worker (leases need real rows): its id, the job uuids."""
    engine = open_engine(url)
    setup_schema(engine)
    engine.dispose()
    db = open_database(url)
    now = datetime.now(UTC)
    jobs = [uuid.uuid4() for _ in range(workers)]
    with db.begin() as connection:
        ids = {}
        for table, values in (
            ("images", {"name": IMAGE}),
            ("packages", {"name": "bench", "version": "1"}),
            ("githashes", {"hash": "0" * 40}),
        ):
            connection.execute(
                text(f"insert into {table} ({', '.join(values)}) values "  # noqa: S608
                     f"({', '.join(':' + k for k in values)})"),
                values,
            )  # fmt: skip
            ids[table] = connection.execute(text(f"select max(id) from {table}")).scalar_one()  # noqa: S608
        submit = connection.execute(
            SUBMITS.insert()
            .values(
                uuid=uuid.uuid4(), submit_time=now, requested_image_id=ids["images"],
                requested_package_id=ids["packages"], repo_hash_id=ids["githashes"],
                kind="build", state="running", dirty=False,
            )
            .returning(SUBMITS.c.id)
        ).scalar_one()  # fmt: skip
        for job in jobs:
            connection.execute(
                JOBS.insert().values(
                    submit_id=submit, package_id=ids["packages"], image_id=ids["images"],
                    script_text="", uuid=job, state="queued",
                )
            )  # fmt: skip
        assert connection.execute(select(JOBS.c.id)).first() is not None
    db.close()
    return submit, jobs


def acquire_release(
    url: str, submit: int, job: uuid.UUID, samples: int, maxjobs: int
) -> list[float]:
    """Seconds of each acquire + release, one after the other."""
    db = open_database(url)
    endpoint = (leases.endpoint_id(db, "bench"), "bench")
    holder = leases.Holder("bench", os.getpid())
    times = []
    try:
        for _ in range(samples):
            started = time.perf_counter()
            request = leases.request_slot(
                db, endpoint=endpoint, job_uuid=job, submit_id=submit, priority=0,
                holder=holder, at=datetime.now(UTC),
            )  # fmt: skip
            while not leases.try_grant(db, request, maxjobs=maxjobs, at=datetime.now(UTC)):
                time.sleep(0.001)
            leases.release(db, request)
            times.append(time.perf_counter() - started)
    finally:
        db.close()
    return times


def _worker(args: tuple[str, int, uuid.UUID, int, int]) -> list[float]:
    return acquire_release(*args)


def bench_latency(scratch: Path, backend: str, samples: int) -> None:
    with database_url(backend, scratch) as url:
        submit, jobs = latency_fixture(url, PROCESSES)
        alone = acquire_release(url, submit, jobs[0], samples, PROCESSES)
        with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
            runs = pool.map(_worker, [(url, submit, job, samples, PROCESSES) for job in jobs])
    contended = [t for run in runs for t in run]
    print(f"Slot acquire + release on {backend} ({samples} each):")
    print(f"  alone:         {_stats(alone)}")
    print(f"  {PROCESSES} processes:   {_stats(contended)}")


def _stats(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"median {1000 * statistics.median(ordered):6.2f} ms   p95 {1000 * p95:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="jobs of the throughput run")
    parser.add_argument("--maxjobs", type=int, default=2, help="maxjobs of each endpoint")
    parser.add_argument("--samples", type=int, default=300, help="acquire+release per process")
    parser.add_argument(
        "--databases", nargs="*", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--only", choices=["throughput", "latency"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="butido-bench-farm-") as directory:
        scratch = Path(directory)
        for backend in args.databases:
            if args.only != "throughput":
                bench_latency(scratch, backend, args.samples)
            if args.only != "latency":
                bench_throughput(scratch, backend, args.jobs, args.maxjobs)


if __name__ == "__main__":
    main()
