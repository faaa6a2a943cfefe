"""A container's output stream read in blocks: HTTP chunks and Docker's multiplexed frames are
undone whatever the blocks' boundaries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from urllib3.exceptions import ProtocolError

from butido_py.endpoint.docker_stream import dechunk, demultiplex


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def chunked(*chunks: bytes, end: bool = True) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks if c)
    return body + (b"0\r\n\r\n" if end else b"")


def blocks(data: bytes, step: int) -> Iterator[bytes]:
    """`data` in blocks of `step` bytes, as a socket may hand it out."""
    return (data[at : at + step] for at in range(0, len(data), step))


FRAMES = frame(1, b"hello\n") + frame(2, b"#BUTIDO:PHASE:build\n") + frame(1, b"") + frame(1, b"x")


@pytest.mark.parametrize("step", [1, 3, 8, 9, 1000])
def test_stdout_and_stderr_payloads_in_order_whatever_the_blocks(step: int) -> None:
    pieces = list(demultiplex(blocks(FRAMES, step)))
    assert b"".join(pieces) == b"hello\n#BUTIDO:PHASE:build\nx"
    assert all(pieces)


def test_the_frames_of_one_block_come_as_one_piece() -> None:
    assert list(demultiplex([FRAMES, frame(1, b"later\n")])) == [
        b"hello\n#BUTIDO:PHASE:build\nx",
        b"later\n",
    ]


def test_a_cut_stream_ends_with_what_arrived() -> None:
    data = frame(1, b"complete\n") + frame(1, b"cut short")[:-4]
    assert b"".join(demultiplex([data])) == b"complete\ncut s"
    assert list(demultiplex([b"\x01\x00\x00"])) == []


@pytest.mark.parametrize("step", [1, 2, 5, 17, 4096])
def test_http_chunks_are_undone_whatever_the_blocks(step: int) -> None:
    body = chunked(b"a" * 300, FRAMES, b"\r\n in the data \r\n")
    assert b"".join(dechunk(blocks(body, step))) == b"a" * 300 + FRAMES + b"\r\n in the data \r\n"
    with_extension = b"5;name=value\r\nhello\r\n0\r\nTrailer: x\r\n\r\n"
    assert b"".join(dechunk(blocks(with_extension, step))) == b"hello"


def test_the_chunks_of_one_block_come_as_one_piece_and_the_last_one_ends_the_body() -> None:
    body = chunked(b"one", b"two") + b"never read"
    assert list(dechunk([body])) == [b"onetwo"]


def test_a_body_cut_before_its_last_chunk_is_a_lost_connection() -> None:
    with pytest.raises(ProtocolError, match="ended before its last chunk"):
        list(dechunk(blocks(chunked(b"half", end=False), 3)))
    with pytest.raises(ProtocolError, match="invalid chunk size"):
        list(dechunk([b"zz\r\nhello\r\n"]))
    with pytest.raises(ProtocolError, match="invalid chunk size"):
        list(dechunk([b"1" * 2000]))


def test_the_body_ends_after_its_trailers_whatever_the_blocks() -> None:
    """Read to its very end (the connection serves the next request), and not beyond: the
    engine sends nothing more, a read past the end would wait for good."""
    body = b"3\r\none\r\n0\r\nTrailer: x\r\n\r\n"

    def then_nothing(step: int) -> Iterator[bytes]:
        yield from blocks(body, step)
        pytest.fail("read past the end of the body")

    for step in (1, 2, 4, 100):
        rest = blocks(body, step)
        assert b"".join(dechunk(rest)) == b"one"
        assert list(rest) == []  # the final CRLF was read
        assert b"".join(dechunk(then_nothing(step))) == b"one"
