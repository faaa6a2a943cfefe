"""`db log-of`: follow from another process, attempts, byte-for-byte logs shown safely; on SQLite
and PostgreSQL. The writer is this process (through db/ as the orchestrator writes), the reader a
`python -m butido_py` process, as for a release engineer watching a colleague's build; at the end,
the same with a real job: `butido build` running a container in one process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from butido_py.config.model import EndpointConfig
from butido_py.db import jobs, logs, submits
from butido_py.db.database import Database, open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.errors import ExitCode
from butido_py.states import FailureKind, SubmitState
from tests.e2e.test_db_commands import Cli, make_cli
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.seed import jid, seed, sid
from tests.helpers.workspace import Workspace, clean_environ, make_workspace

#: The running job of the seed, with two lines stored.
RUNNING = jid(9)
HOSTILE = (
    b"plain \xff\xfe invalid utf-8\n"
    b"progress 10%\rprogress 99%\r\n"
    b"\x1b]0;owned title\x07\x1b[2J\x1b[31mred\x1b[0m\n"
) + b"L" * (3 << 20)  # a 3 MiB line without a line break, at the very end


@pytest.fixture(params=BACKENDS)
def setup(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str
) -> Iterator[tuple[Cli, Database]]:
    with fresh_database_url(request.param, tmp_path, postgres_url) as url:
        engine = open_engine(url)
        setup_schema(engine)
        engine.dispose()
        db = open_database(url)
        seed(db)
        try:
            yield make_cli(url, tmp_path), db
        finally:
            db.close()


def _follower(cli: Cli, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "butido_py", "db", "log-of", str(RUNNING), "--follow", *args],
        cwd=cli.repo,
        env=cli.environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _print_lines(db: Database, count: int, written: dict[bytes, float], *, fail: bool) -> None:
    """The job prints a line a second, then ends."""
    for n in range(count):
        line = f"line {n}".encode()
        written[line] = time.monotonic()
        logs.append_chunk(db, RUNNING, line + b"\n")
        time.sleep(1.0)
    now = datetime.now(UTC)
    if fail:
        jobs.mark_failed(db, RUNNING, at=now, failure_kind=FailureKind.SCRIPT, exit_code=1)
    else:
        jobs.mark_succeeded(db, RUNNING, at=now)


@pytest.mark.parametrize("fail", [False, True], ids=["succeeds", "fails"])
def test_follow_shows_lines_as_they_are_printed_and_ends_with_the_job(
    setup: tuple[Cli, Database], fail: bool
) -> None:
    cli, db = setup
    follower = _follower(cli)
    assert follower.stdout is not None
    assert follower.stderr is not None
    # What was stored before comes first (and tells that the follower is up).
    assert follower.stdout.readline() == b"#BUTIDO:PHASE:configure\n"
    assert follower.stdout.readline() == b"checking for gcc... yes\n"
    written: dict[bytes, float] = {}
    job = threading.Thread(target=_print_lines, args=(db, 3, written), kwargs={"fail": fail})
    job.start()
    delays = []
    for n in range(3):
        line = follower.stdout.readline().rstrip(b"\n")
        assert line == f"line {n}".encode()
        delays.append(time.monotonic() - written[line])
    job.join()
    ended = time.monotonic()
    code = follower.wait(timeout=30)
    assert max(delays) < 1.5, delays  # a line within a second of being printed (with margin)
    assert time.monotonic() - ended < 5  # the follower ends by itself with the job
    assert follower.stdout.read() == b""
    stderr = follower.stderr.read().decode()
    follower.stdout.close()
    follower.stderr.close()
    if fail:
        assert code == 1
        assert f"error: job {RUNNING} ended failed" in stderr
    else:
        assert (code, stderr) == (0, "")


def test_a_retried_job_keeps_each_attempts_log(setup: tuple[Cli, Database]) -> None:
    cli, db = setup
    jobs.mark_retried(db, RUNNING, attempt=2, at=datetime.now(UTC))
    logs.append_chunk(db, RUNNING, b"second try\n")
    assert cli("db", "log-of", str(RUNNING)).stdout == "second try\n"
    first = cli("db", "log-of", str(RUNNING), "--attempt", "1")
    assert first.stdout == "#BUTIDO:PHASE:configure\nchecking for gcc... yes\n"
    missing = cli("db", "log-of", str(RUNNING), "--attempt", "3")
    assert missing.code == 5
    assert f"job {RUNNING} has no attempt 3" in missing.stderr


def test_a_hostile_log_round_trips_raw_and_is_shown_safely(setup: tuple[Cli, Database]) -> None:
    cli, db = setup
    jobs.mark_retried(db, RUNNING, attempt=2, at=datetime.now(UTC))
    for start in range(0, len(HOSTILE), 1 << 20):
        logs.append_chunk(db, RUNNING, HOSTILE[start : start + (1 << 20)])
    raw = subprocess.run(
        [sys.executable, "-m", "butido_py", "db", "log-of", str(RUNNING), "--raw"],
        cwd=cli.repo,
        env=cli.environ(),
        capture_output=True,
        check=False,
    )
    assert raw.stdout == HOSTILE  # byte for byte
    job = subprocess.run(
        [sys.executable, "-m", "butido_py", "db", "job", str(RUNNING), "-L", "--raw"],
        cwd=cli.repo,
        env=cli.environ(),
        capture_output=True,
        check=False,
    )
    assert job.stdout.endswith(b"\n---\n" + HOSTILE)  # the record, then the bytes as stored
    shown = cli.in_terminal("db", "log-of", str(RUNNING)).stdout
    for obeyed in ("\x1b]", "\x07", "\x1b[2J"):
        assert obeyed not in shown
    assert "\r" not in shown  # the terminal's own CR LF was turned back into LF
    assert "plain \ufffd\ufffd invalid utf-8\n" in shown
    assert "progress 10%^Mprogress 99%\n" in shown
    assert "^[]0;owned title^G^[[2J\x1b[31mred\x1b[0m\n" in shown  # colour kept
    assert shown.endswith("L" * 64 + "\n")
    assert shown.count("L") == 3 << 20


def test_watch_a_submit_until_it_ends(setup: tuple[Cli, Database]) -> None:
    cli, db = setup
    watcher = subprocess.Popen(
        [sys.executable, "-m", "butido_py", "db", "submit", str(sid(3)), "--watch"],
        cwd=cli.repo,
        env=cli.environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert watcher.stdout is not None
    first = watcher.stdout.readline().decode()
    assert "tool 0.4 running (phase configure)" in first
    assert f"job {RUNNING}" in first
    logs.append_chunk(db, RUNNING, b"#BUTIDO:PHASE:install\n")
    assert "tool 0.4 running (phase install)" in watcher.stdout.readline().decode()
    now = datetime.now(UTC)
    jobs.mark_succeeded(db, RUNNING, at=now)
    submits.finish_submit(db, sid(3), SubmitState.SUCCEEDED, at=now)
    stdout, stderr = watcher.communicate(timeout=30)
    assert (watcher.returncode, stderr) == (0, b"")
    assert stdout.decode().endswith(f"submit {sid(3)} succeeded\n")
    shown = cli.in_terminal("db", "submit", str(sid(3)), "--watch")
    assert shown.code == 0
    assert f"Submit {sid(3)}: succeeded\n" in shown.stdout
    assert "tool" in shown.stdout


# --- a real job: `butido build` in one process, `db log-of --follow` in another ------------------

#: Five lines a second apart, each with the time it was printed: /proc/uptime is the kernel's
#: boot clock, the same inside the container as in this test (the test engines are local).
PRINTER = """{{phase "build"}}
sleep 2
for i in 1 2 3 4 5; do read up _ < /proc/uptime; echo "line $i $up"; sleep 1; done
"""


@pytest.fixture(params=BACKENDS)
def build_space(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_url: str,
    docker_endpoint: EndpointConfig,
) -> Iterator[Workspace]:
    with fresh_database_url(request.param, tmp_path, postgres_url) as url:
        space = make_workspace(tmp_path, [docker_endpoint], url)
        try:
            yield space
        finally:
            space.close()


def _job_of_running_build(space: Workspace, package: str) -> str:
    """The uuid of the build's job for `package`, once the build has recorded its plan."""
    db = space.database()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for submit in submits.list_submits(db, submits.SubmitFilter()):
            found, _ = jobs.jobs_of_submit(db, submit.id)
            for job in found:
                if job.package_name == package:
                    return str(job.uuid)
        time.sleep(0.1)
    pytest.fail(f"the build recorded no job for {package}")


def _boot_clock() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def _follow(space: Workspace, job: str) -> tuple[list[tuple[str, float, float]], float, int, str]:
    """`db log-of --follow JOB` in its own process: (line number, printed at, shown at) of each
    line of the job, when its output ended, its exit code and its stderr."""
    with subprocess.Popen(
        [sys.executable, "-m", "butido_py", "db", "log-of", job, "--follow"],
        cwd=space.root,
        env={**clean_environ(), **space.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as follower:
        assert follower.stdout is not None
        assert follower.stderr is not None
        arrived = []
        while line := follower.stdout.readline().decode():
            if line.startswith("line "):
                _, n, printed = line.split()
                arrived.append((n, float(printed), _boot_clock()))
        ended = _boot_clock()
        code = follower.wait(timeout=30)
        return arrived, ended, code, follower.stderr.read().decode()


@pytest.mark.docker
@pytest.mark.parametrize("fail", [False, True], ids=["succeeds", "fails"])
def test_follow_a_real_job_from_another_process(build_space: Workspace, fail: bool) -> None:
    space = build_space
    space.add_package("printer", build=PRINTER + ("exit 3\n" if fail else "mkdir -p /outputs\n"))
    space.commit()
    build = space.popen("build", "printer", "1", "-I", "tiny")
    try:
        job = _job_of_running_build(space, "printer")
        arrived, ended, code, stderr = _follow(space, job)
        build.communicate(timeout=60)
    finally:
        if build.poll() is None:
            build.kill()
            build.communicate()
    assert [n for n, _, _ in arrived] == ["1", "2", "3", "4", "5"]
    # Lines printed before the follower showed its first one waited for it to start; every line
    # after that appears within about a second of being printed (no performance claim).
    first_seen = arrived[0][2]
    live = [(n, seen - printed) for n, printed, seen in arrived if printed > first_seen]
    assert len(live) >= 3, arrived  # the follower was up early enough to see lines come
    assert all(0 <= delay < 1.5 for _, delay in live), live
    assert ended - arrived[-1][2] < 10  # it ends by itself with the job
    if fail:
        assert code == ExitCode.FAILURE, stderr
        assert f"error: job {job} ended failed" in stderr
    else:
        assert (code, stderr) == (0, "")
