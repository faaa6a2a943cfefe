"""A container's output stream, read in large blocks: HTTP chunks and Docker frames undone here.

The engine writes a job's output as one Docker frame per line (an 8-byte header: stream type, 3
zero bytes, big-endian payload size) and flushes each frame as its own HTTP chunk: a build that
prints ordinary lines yields millions of frames of some 80 bytes. Read frame by frame through
urllib3 (two reads per frame, each through several layers of Python), the reading alone capped a
job's log at about 1 MB/s (bench/bench_log_stream.py). Here the response's socket is read in
blocks of up to `BLOCK` bytes, whatever has arrived, and each block's chunks and frames are undone
in one loop: the output comes as one piece per block, as soon as it arrived.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

from urllib3.exceptions import ProtocolError

#: Bytes asked of the socket per read: it returns what has arrived, up to that.
BLOCK: Final = 256 * 1024
#: A chunk-size line longer than this is not HTTP.
_MAX_SIZE_LINE: Final = 1024


def response_blocks(response: Any) -> Iterator[bytes]:
    """The body of a streamed `requests` response, in blocks as they arrive from the socket.

    A chunked body (the engine's streams are) is read from the connection's buffered socket file
    under http.client and undone by `dechunk`; any other body through urllib3's `read1`. A lost
    connection raises urllib3's `ProtocolError`, as a read through urllib3 would."""
    raw = response.raw
    inner: Any = getattr(raw, "_fp", None)  # http.client's response: no body read yet
    socket_file: Any = getattr(inner, "fp", None)
    try:
        if getattr(inner, "chunked", False) and hasattr(socket_file, "read1"):
            yield from dechunk(iter(lambda: socket_file.read1(BLOCK), b""))
            # Read to its end beside http.client: its response is closed (not the connection,
            # which can serve again once released) as http.client closes it at a body's end.
            inner._close_conn()
        else:
            while block := raw.read1(BLOCK):
                yield block
    except OSError as exc:  # the socket itself: reset, timed out
        raise ProtocolError(f"reading the stream failed: {exc}", exc) from exc


def dechunk(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The data of an HTTP/1.1 chunked body (hex size line, data, CRLF; a zero size ends it;
    extensions and trailers ignored), one piece per block that carried any. Raises
    `ProtocolError` when the blocks end before the last chunk (the connection was lost)."""
    pending = b""
    left = 0  # data bytes of the current chunk still to come
    skip = 0  # bytes of the CRLF after a chunk's data still to come
    blocks = iter(blocks)
    for block in blocks:
        data = pending + block if pending else block
        pending, position, end, pieces = b"", 0, len(data), []
        while position < end:
            if left:
                taken = min(left, end - position)
                pieces.append(data[position : position + taken])
                position, left = position + taken, left - taken
                skip = 0 if left else 2
            elif skip:
                skipped = min(skip, end - position)
                position, skip = position + skipped, skip - skipped
            else:
                line_end = data.find(b"\r\n", position)
                if line_end < 0:
                    pending = _size_line_so_far(data[position:])
                    break
                left = _chunk_size(data[position:line_end])
                position = line_end + 2
                if not left:
                    if pieces:
                        yield b"".join(pieces)
                    _skip_trailers(data[position:], blocks)
                    return
        if pieces:
            yield b"".join(pieces)
    raise ProtocolError("the stream ended before its last chunk (the connection was lost)")


def _skip_trailers(rest: bytes, blocks: Iterator[bytes]) -> None:
    """Read past the trailer fields after the last chunk, to the empty line that ends the body
    (so that the connection can serve another request)."""
    while not rest.startswith(b"\r\n"):
        line_end = rest.find(b"\r\n")
        if line_end >= 0:
            rest = rest[line_end + 2 :]
        elif (more := next(blocks, None)) is None:
            return  # the connection was closed: it serves no other request anyway
        else:
            rest = _size_line_so_far(rest + more)


def _size_line_so_far(part: bytes) -> bytes:
    if len(part) > _MAX_SIZE_LINE:
        raise ProtocolError(f"invalid chunk size line: {part[:32]!r}…")
    return part


def _chunk_size(line: bytes) -> int:
    try:
        return int(line.split(b";", 1)[0], 16)
    except ValueError:
        raise ProtocolError(f"invalid chunk size line: {line[:32]!r}") from None


def demultiplex(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The payloads of Docker's multiplexed stream, stdout and stderr alike, until the blocks
    end: one piece per block that carried any payload (frames may be split anywhere). A
    stream cut inside a frame ends with what arrived of its payload."""
    pending = b""  # the start of a frame header
    left = 0  # payload bytes of the current frame still to come
    for block in blocks:
        data = pending + block if pending else block
        pending, position, end, pieces = b"", 0, len(data), []
        while position < end:
            if left:
                taken = min(left, end - position)
                pieces.append(data[position : position + taken])
                position, left = position + taken, left - taken
            elif end - position < 8:
                pending = data[position:]
                break
            else:
                left = int.from_bytes(data[position + 4 : position + 8], "big")
                position += 8
        if pieces:
            yield b"".join(pieces)
