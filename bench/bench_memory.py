"""Benchmark: the orchestrator's memory while jobs stream 1 GiB of outputs and 200 MB of logs.

Target (DESIGN.md §7): RSS under 200 MB. A repository of four packages, each writing a 256 MiB
artifact and 50 MB of log lines, and a fifth that needs all four (so 1 GiB of inputs are copied
into its container as well), is built by the real `butido build` command (a `python -m
butido_py` process, SQLite, reuse off, one endpoint with maxjobs 2). Its peak resident set
(`VmHWM` of /proc/PID/status, sampled every 20 ms until it exits) is printed, with the bytes that
went through it. Prints figures; asserts nothing about memory.

    .venv/bin/python bench/bench_memory.py [--blobs 4] [--blob-mib 256] [--log-mb 50]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_build import CONFIG, IMAGE, endpoints_toml, setup_repo

ROOT = """\
version_is_semver = false
patches = []
[dependencies]
build = []
runtime = []
"""

BLOB = """\
name = "{name}"
version = "1"
sources = {{}}
[phases]
build.script = '''
    mkdir -p /outputs
    head -c {blob_bytes} /dev/zero > /outputs/{name}.bin
    yes "{name}: cc -O2 -c some/long/path/to/a/source/file.c -o file.o # a line of build output" \\
        | head -c {log_bytes}
    echo
'''
"""

TOP = """\
name = "top"
version = "1"
sources = {{}}
[dependencies]
runtime = [{deps}]
[phases]
build.script = '''
    mkdir -p /outputs
    ls -l /inputs > /outputs/top.txt
'''
"""


def write_repository(root: Path, blobs: int, blob_bytes: int, log_bytes: int) -> None:
    root.mkdir(parents=True)
    (root / "pkg.toml").write_text(ROOT)
    names = [f"blob{i}" for i in range(blobs)]
    for name in names:
        (root / name).mkdir()
        (root / name / "pkg.toml").write_text(
            BLOB.format(name=name, blob_bytes=blob_bytes, log_bytes=log_bytes)
        )
    (root / "top").mkdir()
    (root / "top" / "pkg.toml").write_text(TOP.format(deps=", ".join(f'"{n} 1"' for n in names)))


def peak_rss_of(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, float, int]:
    """(exit code, seconds, peak RSS in bytes) of a command, sampling /proc while it runs."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = 0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except OSError:
            break
        time.sleep(0.02)
    _, stderr = process.communicate()
    if process.returncode != 0:
        print(stderr.decode(errors="replace")[-2000:], file=sys.stderr)
    return process.returncode, time.monotonic() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blobs", type=int, default=4, help="packages with a big artifact")
    parser.add_argument("--blob-mib", type=int, default=256, help="MiB of each artifact")
    parser.add_argument("--log-mb", type=int, default=50, help="MB of log of each of them")
    parser.add_argument(
        "--database-url", help="record in this (empty or set-up) database instead of SQLite"
    )
    args = parser.parse_args()
    blob_bytes, log_bytes = args.blob_mib << 20, args.log_mb * 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as scratch:
        root, data = Path(scratch) / "repo", Path(scratch) / "data"
        write_repository(root, args.blobs, blob_bytes, log_bytes)
        config = CONFIG.format(
            data=data, phases='["build"]', image=IMAGE, endpoints=endpoints_toml(2, two=False)
        )
        setup_repo(root, data, config)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("BUTIDO_", "XDG_"))},
            "HOME": scratch,
            "XDG_DATA_HOME": f"{scratch}/xdg",
            "NO_COLOR": "1",
        }
        if args.database_url:
            env["BUTIDO_DATABASE_URL"] = args.database_url
            subprocess.run(
                [sys.executable, "-m", "butido_py", "db", "setup"],
                cwd=root, env=env, check=True, capture_output=True,
            )  # fmt: skip
        command = [sys.executable, "-m", "butido_py", "build", "top", "1", "-I", "tiny"]
        code, seconds, peak = peak_rss_of([*command, "--no-reuse"], root, env)
        staged = sum(p.stat().st_size for p in (data / "staging").rglob("*") if p.is_file())
    print(
        f"build of {args.blobs} x {args.blob_mib} MiB artifacts with {args.log_mb} MB of log "
        f"each, and a job that gets all of them as inputs: exit {code}, {seconds:.1f} s"
    )
    print(
        f"  outputs staged: {staged / 2**30:.2f} GiB; logs: {args.blobs * log_bytes / 1e6:.0f} MB"
    )
    print(f"  peak RSS of `butido build`: {peak / 2**20:.1f} MiB  (target < 200 MB)")


if __name__ == "__main__":
    main()
