"""Benchmark: how fast a job's log is stored (MB/s) when the job prints as fast as it can.

One package whose script writes `--log-mb` MB of build-output lines (`yes | head -c`), and one
whose script writes one line of that size without any line break, are built by the real `butido
build` command (a `python -m butido_py` process, reuse off, the tiny image). The bytes stored in
`log_chunks`, the chunks, and the container's running time (`started_at` → `finished_at`) give the
throughput; the peak RSS of the build is printed as well. SQLite by default, PostgreSQL with
`--database-url` (an empty database or one set up by butido_py). Prints figures; asserts nothing.

    .venv/bin/python bench/bench_log_throughput.py [--log-mb 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_build import CONFIG, IMAGE, endpoints_toml, setup_repo
from bench_memory import ROOT, peak_rss_of
from sqlalchemy import func, select

from butido_py.db.database import open_database
from butido_py.db.models import JOBS, LOG_CHUNKS, PACKAGES

LINES = """\
name = "lines"
version = "1"
sources = {{}}
[phases]
build.script = '''
    yes "cc -O2 -c some/long/path/to/a/source/file.c -o file.o # a line of build output" \\
        | head -c {log_bytes}
    mkdir -p /outputs && touch /outputs/lines.txt
'''
"""

ONE_LINE = """\
name = "oneline"
version = "1"
sources = {{}}
[phases]
build.script = '''
    head -c {log_bytes} /dev/zero | tr '\\\\0' 'x'
    mkdir -p /outputs && touch /outputs/oneline.txt
'''
"""


def measure(root: Path, env: dict[str, str], url: str, package: str) -> None:
    command = [sys.executable, "-m", "butido_py", "build", package, "1", "-I", "tiny"]
    code, seconds, peak = peak_rss_of([*command, "--no-reuse"], root, env)
    db = open_database(url)
    try:
        with db.begin() as connection:
            job = connection.execute(
                select(JOBS.c.id, JOBS.c.started_at, JOBS.c.finished_at)
                .join(PACKAGES, PACKAGES.c.id == JOBS.c.package_id)
                .where(PACKAGES.c.name == package)
                .order_by(JOBS.c.id.desc())
                .limit(1)
            ).one()
            stored, chunks = connection.execute(
                select(func.sum(func.length(LOG_CHUNKS.c.bytes)), func.count()).where(
                    LOG_CHUNKS.c.job_id == job.id
                )
            ).one()
    finally:
        db.close()
    ran = (job.finished_at - job.started_at).total_seconds()
    print(
        f"  {package}: exit {code}, build {seconds:.1f} s, job ran {ran:.1f} s, stored "
        f"{(stored or 0) / 1e6:.1f} MB in {chunks} chunks: {(stored or 0) / 1e6 / ran:.1f} MB/s; "
        f"peak RSS {peak / 2**20:.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-mb", type=int, default=200, help="MB each job prints")
    parser.add_argument("--database-url", help="record in this database instead of SQLite")
    args = parser.parse_args()
    log_bytes = args.log_mb * 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench-log-") as scratch:
        root, data = Path(scratch) / "repo", Path(scratch) / "data"
        root.mkdir(parents=True)
        (root / "pkg.toml").write_text(ROOT)
        for name, template in (("lines", LINES), ("oneline", ONE_LINE)):
            (root / name).mkdir()
            (root / name / "pkg.toml").write_text(template.format(log_bytes=log_bytes))
        config = CONFIG.format(
            data=data, phases='["build"]', image=IMAGE, endpoints=endpoints_toml(2, two=False)
        )
        setup_repo(root, data, config)
        url = args.database_url or f"sqlite:///{data}/bench.sqlite"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("BUTIDO_", "XDG_"))},
            "HOME": scratch,
            "XDG_DATA_HOME": f"{scratch}/xdg",
            "NO_COLOR": "1",
            "BUTIDO_DATABASE_URL": url,
        }
        subprocess.run(
            [sys.executable, "-m", "butido_py", "db", "setup"],
            cwd=root, env=env, check=True, capture_output=True,
        )  # fmt: skip
        print(f"log throughput, {args.log_mb} MB per job, on {url.split(':')[0]}:")
        for package in ("lines", "oneline"):
            measure(root, env, url, package)


if __name__ == "__main__":
    main()
