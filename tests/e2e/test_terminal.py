"""What a terminal shows: a build interrupted by Ctrl-C leaves no progress bar behind, only the
header, the cancel notice and the summary line (a pty, read through a terminal emulator)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pyte
import pytest

from butido_py.config.model import EndpointConfig
from tests.e2e.test_build import wait_for_running_container
from tests.helpers.workspace import Workspace, clean_environ, make_workspace

pytestmark = pytest.mark.docker

COLUMNS, LINES = 120, 40


@pytest.fixture
def space(tmp_path: Path, docker_endpoint: EndpointConfig) -> Iterator[Workspace]:
    workspace = make_workspace(
        tmp_path, [replace(docker_endpoint, maxjobs=2)], f"sqlite:///{tmp_path / 'tty.sqlite'}"
    )
    yield workspace
    workspace.close()


def _read_until_exit(master: int, process: subprocess.Popen[bytes], timeout: float) -> bytes:
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    return b"".join(chunks)


def test_ctrl_c_clears_the_bars_and_ends_with_the_summary(
    space: Workspace, docker_endpoint: EndpointConfig
) -> None:
    space.add_package("sleeper", build='{{phase "build"}}\nsleep 300')
    space.add_package("napper", build='{{phase "build"}}\nsleep 300')
    space.add_package("top", depends=["sleeper 1", "napper 1"])
    space.commit()
    master, slave = pty.openpty()
    # A pty starts 0x0, and tqdm draws nothing in zero columns.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    os.set_blocking(master, False)
    environ = {**clean_environ(), **space.environ, "COLUMNS": str(COLUMNS), "LINES": str(LINES)}
    process = subprocess.Popen(
        [sys.executable, "-m", "butido_py", "build", "top", "1", "-I", "tiny"],
        cwd=space.root,
        env=environ,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    try:
        wait_for_running_container(docker_endpoint, "sleeper")
        wait_for_running_container(docker_endpoint, "napper")
        time.sleep(1)  # the bars are drawn
        process.send_signal(signal.SIGINT)
        output = _read_until_exit(master, process, timeout=90)
        assert process.wait(timeout=30) == 130
    finally:
        process.kill()
        os.close(master)
    screen = pyte.Screen(COLUMNS, LINES)
    pyte.ByteStream(screen).feed(output.replace(b"\n", b"\r\n"))
    shown = [line.rstrip() for line in screen.display if line.strip()]
    assert shown[-1].startswith("Submit "), shown
    assert " canceled: 3 jobs" in shown[-1]
    assert "Ctrl-C: canceling the build, removing its containers …" in shown
    assert not [line for line in shown if "%" in line or "job/s" in line or "|" in line], shown
    assert "WARNING" not in output.decode(errors="replace")  # no raw logging line
    assert b"\x1b[33m" not in output  # NO_COLOR (clean_environ) leaves warning: lines plain
