"""`db log-of`: follow from another process, attempts, byte-for-byte logs shown safely; on SQLite
and PostgreSQL. The writer is this process (through db/ as the orchestrator writes), the reader a
`python -m butido_py` process, as for a release engineer watching a colleague's build."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from butido_py.db import jobs, logs, submits
from butido_py.db.database import Database, open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.states import FailureKind, SubmitState
from tests.e2e.test_db_commands import Cli, make_cli
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.seed import jid, seed, sid

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
