"""`butido serve` as a process: it serves, warns off loopback, and never prints the password."""

from __future__ import annotations

import time
import urllib.request

import pytest

from tests.helpers.databases import BACKENDS
from tests.helpers.workspace import Workspace
from tests.web.server import free_port

pytestmark = pytest.mark.docker  # the workspace fixture checks the Docker engine


@pytest.mark.parametrize("workspace", [BACKENDS[1]], indirect=True)
def test_serve_warns_off_loopback_and_hides_the_password(workspace: Workspace) -> None:
    port = free_port()
    process = workspace.popen("serve", "--host", "0.0.0.0", "--port", str(port))  # noqa: S104
    try:
        page = _get_when_up(f"http://127.0.0.1:{port}/")
        assert "Submits" in page
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "warning: serving on 0.0.0.0: the web view has no login" in stderr
    assert "reverse proxy" in stderr
    password = workspace.url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password
    assert f":{password}@" not in stderr
    assert f"on http://0.0.0.0:{port}/" in stderr


def _get_when_up(url: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
