"""The web view served by a real uvicorn in a thread, on a free loopback port, for the tests."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from butido_py.db.database import Database
from butido_py.web.app import create_app


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    text: str

    def json(self) -> object:
        return json.loads(self.text)


@dataclass(frozen=True, slots=True)
class Server:
    base: str

    def get(self, path: str) -> Answer:
        try:
            with urllib.request.urlopen(self.base + path, timeout=30) as response:  # noqa: S310 - loopback
                return Answer(
                    response.status, response.headers["content-type"], response.read().decode()
                )
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers["content-type"], error.read().decode())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(db: Database) -> Iterator[Server]:
    port = free_port()
    config = uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web view did not start")
        time.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
