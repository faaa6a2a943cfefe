"""Benchmark: start-up time of the `butido` command as whole processes (issue 23).

Times, as fresh processes, the median of RUNS runs after one warm-up run: `butido --version`,
`butido --help`, `butido db submits -L 1` on SQLite and on PostgreSQL (a database of its own,
`butido_startup`, created when missing), `butido tree-of desktop` in the example repository, and a
shell completion request (`db su<TAB>`), against `python -c pass` with the same interpreter.
Targets: --version/--help under 0.15 s, a db query under 0.4 s, a completion under 0.15 s. Prints
figures and the load average before and after; asserts nothing about time.

Byte-code: what a user gets is an installed wheel, whose modules are compiled once (.pyc files).
The measured processes therefore run without PYTHONDONTWRITEBYTECODE (which a development
environment may set: an editable install then compiles butido_py's sources at every start), so
the warm-up run writes `__pycache__` for this checkout. `--no-bytecode` measures the other way
(and removes butido_py's `__pycache__` directories first).

    .venv/bin/python bench/bench_startup.py [--url postgresql+psycopg://…/butido_startup]
                                            [--no-postgres] [--runs 5] [--no-bytecode]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+psycopg://butido:butido@127.0.0.1:5432/butido_startup"
BUTIDO = [sys.executable, "-m", "butido_py"]


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    argv: list[str]
    target: float | None
    env: dict[str, str] = field(default_factory=dict)


def median_seconds(case: Case, env: dict[str, str], cwd: Path, runs: int) -> float:
    """One warm-up run (disk cache, .pyc files), then the median wall time of `runs` runs."""
    full_env = {**env, **case.env}
    times = []
    for index in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(case.argv, cwd=cwd, env=full_env, capture_output=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{case.name} failed ({done.returncode}): {done.stderr.decode()}")
        if index:
            times.append(elapsed)
    return statistics.median(times)


def base_env(work: Path, *, bytecode: bool) -> dict[str, str]:
    """This checkout first on the path; user config and data kept inside `work`; with
    `bytecode`, .pyc files written and used as an installed wheel has them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTIDO_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        # Compiled files of an earlier run would be read: remove them (they are generated).
        for cache in (ROOT / "butido_py").rglob("__pycache__"):
            shutil.rmtree(cache)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["XDG_CONFIG_HOME"] = str(work / "config")
    env["XDG_DATA_HOME"] = str(work / "data")
    return env


def prepare_example(work: Path, env: dict[str, str]) -> Path:
    """`butido init` and `butido db setup` on the default SQLite database (no builds)."""
    example = work / "ex"
    subprocess.run([*BUTIDO, "init", str(example)], env=env, check=True, capture_output=True)
    subprocess.run([*BUTIDO, "db", "setup"], cwd=example, env=env, check=True, capture_output=True)
    return example


def prepare_postgres(url: str, env: dict[str, str], example: Path) -> None:
    """Create the benchmark's own database when missing, then `butido db setup` on it."""
    import psycopg  # noqa: PLC0415 - only when PostgreSQL is measured
    from sqlalchemy import make_url  # noqa: PLC0415

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        name = parsed.database
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'create database "{name}"'.encode())
    subprocess.run(
        [*BUTIDO, "db", "setup"],
        cwd=example,
        env={**env, "BUTIDO_DATABASE_URL": url},
        check=True,
        capture_output=True,
    )


def cases(url: str | None) -> list[Case]:
    listed = [
        Case("python -c pass", [sys.executable, "-c", "pass"], None),
        Case("butido --version", [*BUTIDO, "--version"], 0.15),
        Case("butido --help", [*BUTIDO, "--help"], 0.15),
        Case("db submits -L 1 (SQLite)", [*BUTIDO, "db", "submits", "-L", "1"], 0.4),
    ]
    if url is not None:
        listed.append(
            Case(
                "db submits -L 1 (PostgreSQL)",
                [*BUTIDO, "db", "submits", "-L", "1"],
                0.4,
                {"BUTIDO_DATABASE_URL": url},
            )
        )
    listed += [
        Case("tree-of desktop (example)", [*BUTIDO, "tree-of", "desktop"], None),
        Case(
            "completion `db su<TAB>`",
            BUTIDO,
            0.15,
            {"_BUTIDO_COMPLETE": "bash_complete", "COMP_WORDS": "butido db su", "COMP_CWORD": "2"},
        ),
        Case(
            "completion `build desktop <TAB>` (example)",
            BUTIDO,
            0.15,
            {
                "_BUTIDO_COMPLETE": "bash_complete",
                "COMP_WORDS": "butido build desktop ",
                "COMP_CWORD": "3",
            },
        ),
        Case(
            "completion `build desktop 1.0 -I <TAB>` (example)",
            BUTIDO,
            0.15,
            {
                "_BUTIDO_COMPLETE": "bash_complete",
                "COMP_WORDS": "butido build desktop 1.0 -I ",
                "COMP_CWORD": "5",
            },
        ),
    ]
    return listed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL database to use")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL case")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (median)")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="compile butido_py's sources at every start, as an editable install under "
        "PYTHONDONTWRITEBYTECODE=1 does (removes butido_py's __pycache__ directories)",
    )
    args = parser.parse_args()
    url = None if args.no_postgres else args.url
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = base_env(work, bytecode=not args.no_bytecode)
        example = prepare_example(work, env)
        if url is not None:
            prepare_postgres(url, env, example)
        measured = [(c, median_seconds(c, env, example, args.runs)) for c in cases(url)]
    baseline = measured[0][1]
    load_after = os.getloadavg()
    bytecode = "without .pyc files" if args.no_bytecode else "with .pyc files"
    print(
        f"median of {args.runs} whole-process runs after a warm-up, {bytecode} ({sys.executable})"
    )
    print(f"load average (1, 5, 15 min) before {_loads(load_before)}, after {_loads(load_after)}")
    print(f"{'case':<30} {'seconds':>8} {'- python':>9} {'target':>7}")
    for case, seconds in measured:
        target = f"{case.target:.2f}" if case.target is not None else "-"
        verdict = "" if case.target is None else (" ok" if seconds < case.target else " over")
        print(f"{case.name:<30} {seconds:8.3f} {seconds - baseline:9.3f} {target:>7}{verdict}")


def _loads(averages: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in averages)


if __name__ == "__main__":
    main()
