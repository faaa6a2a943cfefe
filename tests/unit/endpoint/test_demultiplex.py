"""Docker's multiplexed log stream, read without the SDK (which would inspect the container)."""

from __future__ import annotations

import io

from butido_py.endpoint.docker_job import demultiplex


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


class Trickle:
    """Hands out at most `step` bytes per read, as a socket may."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = io.BytesIO(data)
        self._step = step

    def read(self, size: int) -> bytes:
        return self._data.read(min(size, self._step))


def test_stdout_and_stderr_payloads_in_order_whatever_the_reads() -> None:
    data = (
        frame(1, b"hello\n") + frame(2, b"#BUTIDO:PHASE:build\n") + frame(1, b"") + frame(1, b"x")
    )
    for step in (1, 3, 8, 1000):
        assert list(demultiplex(Trickle(data, step).read)) == [
            b"hello\n",
            b"#BUTIDO:PHASE:build\n",
            b"x",
        ]


def test_a_cut_stream_ends_with_what_arrived() -> None:
    data = frame(1, b"complete\n") + frame(1, b"cut short")[:-4]
    assert list(demultiplex(io.BytesIO(data).read)) == [b"complete\n", b"cut s"]
    assert list(demultiplex(io.BytesIO(b"\x01\x00\x00").read)) == []
