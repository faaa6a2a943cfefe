"""Crash recovery's decision (is an orchestrator gone?) and the quarantine back-off."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from butido_py.app.recovery import is_lost
from butido_py.db.endpoints import back_off_seconds
from butido_py.db.submits import RunningSubmitRecord
from butido_py.process import pid_alive

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
TIMEOUT = timedelta(minutes=10)


def submit(host: str | None, pid: int | None, age: timedelta | None) -> RunningSubmitRecord:
    beat = None if age is None else NOW - age
    return RunningSubmitRecord(1, uuid.uuid4(), host, pid, beat)


@pytest.mark.parametrize(
    ("host", "alive", "age", "lost"),
    [
        ("here", False, timedelta(seconds=5), True),  # same host, process gone
        ("here", True, timedelta(seconds=5), False),  # same host, running
        ("here", True, timedelta(minutes=11), True),  # pid reused by another process
        ("there", False, timedelta(minutes=9), False),  # other host: only the heartbeat counts
        ("there", True, timedelta(minutes=11), True),
        ("there", True, None, False),
    ],
)
def test_an_orchestrator_is_gone_when(
    host: str, alive: bool, age: timedelta | None, lost: bool
) -> None:
    record = submit(host, 4242, age)
    decided = is_lost(record, host="here", now=NOW, timeout=TIMEOUT, pid_alive=lambda _: alive)
    assert decided is lost


def test_submits_without_an_orchestrator_are_never_decided() -> None:
    old = timedelta(days=400)
    for record in (submit(None, None, old), submit("here", None, old), submit(None, 1, old)):
        assert not is_lost(record, host="here", now=NOW, timeout=TIMEOUT, pid_alive=lambda _: False)


def test_pid_alive_knows_this_process_and_a_reaped_one() -> None:
    assert pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)
    assert not pid_alive(0)


def test_a_zombie_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not yet reaped
        assert not pid_alive(child.pid)
    finally:
        child.wait()


def test_the_quarantine_doubles_with_each_further_failure() -> None:
    assert [back_off_seconds(n, after=2, seconds=300) for n in range(5)] == [
        0, 0, 300, 600, 1200,
    ]  # fmt: skip
    assert back_off_seconds(1, after=1, seconds=0) == 0
    assert back_off_seconds(100, after=1, seconds=1) == 1024  # capped
