"""Benchmark: what `butido build` costs on top of Docker itself (DESIGN.md §7).

1. DAG overhead: the repo-template's top package (desktop 1.0, 18 jobs) built by butido_py
   (reuse off, SQLite) against an ideal script: a Makefile run with `make -j MAXJOBS` that runs the
   same rendered scripts with plain `docker run` (bind-mounted /inputs, /patches, /script,
   /outputs), dependencies first, at the same parallelism. Target: ratio <= 1.10.
2. Throughput: N trivial jobs (one `build` phase that writes one file) under one root package,
   spread over two endpoints, against raw `docker run --rm` of the same number of containers at
   the same parallelism per endpoint. Target: >= 90 % of the raw throughput.

Needs the services of scripts/services (both Docker daemons, image butido-tiny:latest) and the
`docker` and `make` commands. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_build.py [--jobs 1000] [--maxjobs 2] [--rounds 2]
                                          [--work 0 1] [--only dag|throughput]

`--work` makes each DAG job sleep that long in its build phase as well: the template's jobs are
trivial, so the comparison at 0 s shows the fixed cost per job, the one at 1 s a build that does
some work.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from butido_py.app.build import BuildRequest, prepare_build, run_build
from butido_py.config import load_config
from butido_py.db.database import open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.orchestrator.model import JobEvent, PreparedBuild
from butido_py.repository.git_init import copy_template, find_template, init_and_commit
from butido_py.repository.load import load_repository
from butido_py.sources.cache import import_cache_tree

IMAGE = "butido-tiny:latest"
PRIMARY = "unix:///var/run/docker.sock"
SECONDARY = "tcp://127.0.0.1:23750"

CONFIG = """\
compatibility = 1
staging = "{data}/staging"
source_cache = "{data}/sources"
releases_root = "{data}/releases"
log_dir = "{data}/logs"
release_stores = ["default"]
available_phases = {phases}
database_url = "sqlite:///{data}/bench.sqlite"

[docker]
images = [{{ name = "{image}", short_name = "tiny" }}]
{endpoints}
[containers]
check_env_names = false
git_commit_hash = "GIT_COMMIT_HASH"
"""

ENDPOINT = """
[docker.endpoints.{name}]
uri = "{uri}"
endpoint_type = "{kind}"
maxjobs = {maxjobs}
"""

TRIVIAL_ROOT = """\
version_is_semver = false
patches = []
sources = {}
[dependencies]
build = []
runtime = []
[phases]
build.script = '''
    mkdir -p /outputs
    echo "{{this.name}}" > /outputs/{{this.name}}.out
'''
"""


class Quiet:
    def started(self, _prepared: PreparedBuild) -> None:
        return

    def event(self, _event: JobEvent) -> None:
        return

    def finished(self) -> None:
        return


def endpoints_toml(maxjobs: int, *, two: bool) -> str:
    text = ENDPOINT.format(name="primary", uri=PRIMARY, kind="socket", maxjobs=maxjobs)
    if two:
        text += ENDPOINT.format(name="secondary", uri=SECONDARY, kind="http", maxjobs=maxjobs)
    return text


def setup_repo(root: Path, data: Path, config: str) -> None:
    (root / "config.toml").write_text(config)
    init_and_commit(root, "bench repository")
    engine = open_engine(f"sqlite:///{data}/bench.sqlite")
    setup_schema(engine)
    engine.dispose()


def butido_build(root: Path, name: str, version: str) -> tuple[float, PreparedBuild]:
    """Seconds from recording the plan to the end of the run (checks excluded)."""
    environ = {"HOME": str(root.parent), "XDG_DATA_HOME": str(root.parent / "xdg")}
    config = load_config(cwd=root, environ=environ).config
    request = BuildRequest(name=name, version=version, image="tiny", reuse=False, lint=False)
    prepared = prepare_build(
        request, config=config, repository=load_repository(root), warn=lambda _: None
    )
    database = open_database(str(config.database.url))
    try:
        started, cpu = time.monotonic(), time.process_time()
        result = run_build(prepared, database, Quiet()).run()
        seconds = time.monotonic() - started
        cpu = time.process_time() - cpu
    finally:
        database.close()
    print(f"  ({name}: {len(prepared.jobs)} jobs, butido_py used {cpu:.2f} s of CPU)")
    if result.state != "succeeded":
        for job in result.failed:
            print(f"  failed: {job.package} {job.version} ({job.uuid}): {job.error}")
        raise SystemExit(f"butido build {name} {version} {result.state}")
    return seconds, prepared


# --- 1. DAG overhead ------------------------------------------------------------------------------


def makefile_for(prepared: PreparedBuild, work: Path) -> Path:
    """A Makefile that runs every job with `docker run`, dependencies first."""
    by_uuid = {job.uuid: job for job in prepared.jobs}
    rules = [".PHONY: all", f"all: {' '.join(f'{j.uuid}.done' for j in prepared.jobs)}", ""]
    out = work / "out"
    out.mkdir()
    for job in prepared.jobs:
        directory = work / str(job.uuid)
        (directory / "inputs").mkdir(parents=True)
        (directory / "outputs").mkdir()
        for entry in job.sources:
            shutil.copy(entry.path, directory / "inputs" / entry.path.name)
        for patch in job.package.patches:
            target = directory / "patches" / patch
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(prepared.patch_contents[patch])
        (directory / "patches").mkdir(exist_ok=True)
        script = directory / "script"
        script.write_text(job.script)
        script.chmod(0o755)
        copies = " ".join(
            f"{out}/{by_uuid[dep].package.name}-{by_uuid[dep].package.version}.pkg"
            for dep in job.transitive
        )
        env = " ".join(f"-e {shlex.quote(f'{k}={v}')}" for k, v in job.env)
        needs = " ".join(f"{need}.done" for need, _ in job.needs)
        copy = f"\tcp {copies} {directory}/inputs/\n" if copies else ""
        rules.append(
            f"{job.uuid}.done: {needs}\n{copy}"
            f"\tdocker run --rm --network none {env} -v {directory}/inputs:/inputs "
            f"-v {directory}/patches:/patches -v {directory}/script:/script "
            f"-v {directory}/outputs:/outputs {prepared.image} /script > {directory}/log\n"
            f"\tcp {directory}/outputs/* {out}/\n\ttouch $@\n"
        )
    makefile = work / "Makefile"
    makefile.write_text("\n".join(rules))
    return makefile


def ideal_build(prepared: PreparedBuild, maxjobs: int, scratch: Path) -> float:
    work = Path(tempfile.mkdtemp(dir=scratch))
    makefile = makefile_for(prepared, work)
    environ = {**os.environ, "DOCKER_HOST": PRIMARY}
    started = time.monotonic()
    subprocess.run(
        ["make", "-s", "-j", str(maxjobs), "-C", str(work), "-f", str(makefile), "all"],
        check=True,
        env=environ,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def bench_dag(scratch: Path, maxjobs: int, rounds: int, work: float) -> None:
    root, data = scratch / f"template-{work}", scratch / f"template-data-{work}"
    template = find_template()
    copy_template(template, root)
    if work:
        top = root / "pkg.toml"
        text = top.read_text().replace(
            '{{phase "build"}}', f'{{{{phase "build"}}}}\n    sleep {work}'
        )
        top.write_text(text)
    import_cache_tree(template / "sources", data / "sources")
    config = CONFIG.format(
        data=data,
        phases='["sourcecheck", "patchcheck", "depcheck", "build"]',
        image=IMAGE,
        endpoints=endpoints_toml(maxjobs, two=False),
    )
    setup_repo(root, data, config)
    butido_times, ideal_times = [], []
    for _ in range(rounds):
        seconds, prepared = butido_build(root, "desktop", "1.0")
        butido_times.append(seconds)
        ideal_times.append(ideal_build(prepared, maxjobs, scratch))
    butido, ideal = statistics.median(butido_times), statistics.median(ideal_times)
    print(
        f"DAG desktop 1.0 ({len(prepared.jobs)} jobs, maxjobs {maxjobs}, {rounds} rounds, "
        f"{work} s of work per job)"
    )
    print(f"  butido_py build: {butido:6.2f} s  (runs: {_fmt(butido_times)})")
    print(f"  make + docker run: {ideal:6.2f} s  (runs: {_fmt(ideal_times)})")
    print(f"  ratio: {butido / ideal:.3f}  (target <= 1.10)")


# --- 2. throughput --------------------------------------------------------------------------------


def bench_throughput(scratch: Path, jobs: int, maxjobs: int) -> None:
    root, data = scratch / "trivial", scratch / "trivial-data"
    root.mkdir()
    (root / "pkg.toml").write_text(TRIVIAL_ROOT)
    leaves = [f"leaf{i:04d}" for i in range(jobs - 1)]
    for leaf in leaves:
        (root / leaf).mkdir()
        (root / leaf / "pkg.toml").write_text(f'name = "{leaf}"\nversion = "1"\n')
    deps = ", ".join(f'"{leaf} 1"' for leaf in leaves)
    (root / "all").mkdir()
    (root / "all" / "pkg.toml").write_text(
        f'name = "all"\nversion = "1"\n[dependencies]\nruntime = [{deps}]\n'
    )
    config = CONFIG.format(
        data=data, phases='["build"]', image=IMAGE, endpoints=endpoints_toml(maxjobs, two=True)
    )
    setup_repo(root, data, config)
    butido, _ = butido_build(root, "all", "1")
    raw = raw_docker_runs(jobs, maxjobs)
    print(f"Throughput: {jobs} trivial jobs on two endpoints, maxjobs {maxjobs} each")
    print(f"  butido_py build:   {butido:7.2f} s  {jobs / butido:6.2f} jobs/s")
    print(f"  raw docker run:    {raw:7.2f} s  {jobs / raw:6.2f} jobs/s")
    print(f"  butido_py reaches {100 * raw / butido:.1f} % of raw throughput (target >= 90 %)")


def raw_docker_runs(jobs: int, maxjobs: int) -> float:
    """`docker run --rm` of `jobs` containers: half on each endpoint, `maxjobs` at a time each."""
    command = (
        f"docker run --rm --network none {IMAGE} /bin/sh -c "
        "'mkdir -p /outputs && echo x > /outputs/x.out'"
    )
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            ["xargs", "-P", str(maxjobs), "-I{}", "sh", "-c", command],
            stdin=subprocess.PIPE,
            env={**os.environ, "DOCKER_HOST": host},
            text=True,
            stdout=subprocess.DEVNULL,
        )
        for host in (PRIMARY, SECONDARY)
    ]
    for index, process in enumerate(processes):
        share = jobs // 2 + (jobs % 2 if index == 0 else 0)
        assert process.stdin is not None
        process.stdin.write("".join(f"{n}\n" for n in range(share)))
        process.stdin.close()
    for process in processes:
        if process.wait() != 0:
            raise SystemExit("raw docker run failed")
    return time.monotonic() - started


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="jobs of the throughput run")
    parser.add_argument("--maxjobs", type=int, default=2, help="maxjobs of each endpoint")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the DAG comparison")
    parser.add_argument(
        "--work",
        type=float,
        nargs="*",
        default=[0.0, 1.0],
        help="seconds each DAG job sleeps in its build phase (one comparison per value)",
    )
    parser.add_argument("--only", choices=["dag", "throughput"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        scratch = Path(tmp)
        if args.only in (None, "dag"):
            for work in args.work:
                bench_dag(scratch, args.maxjobs, args.rounds, work)
        if args.only in (None, "throughput"):
            bench_throughput(scratch, args.jobs, args.maxjobs)


if __name__ == "__main__":
    main()
