"""Throughput of the #BUTIDO log parser on a synthetic 200 MB build log (one core).

Run: .venv/bin/python bench/bench_logproto.py [--megabytes N]
Prints MB/s for parsing alone (chunks of 64 KiB, split anywhere, records discarded) and for
parsing plus building the stored form as a job does.
Target (issue 4): at least 50 MB/s for parsing.
"""

from __future__ import annotations

import argparse
import random
import time

from butido_py.logproto import LogOutcome, LogParser, LogVerdict, log_outcome, stored_form

CHUNK = 64 * 1024


WORDS = (
    b"gcc -O2 -Wall -c src/main.c -o build/main.o checking for stdlib.h... yes make[2]: "
    b"Entering directory /build libtool: compile: warning: unused variable \xc3\xa4\xc3\xb6"
).split()


def synthetic_log(size: int, seed: int = 4) -> bytes:
    """A realistic mix: compiler lines, a few markers, some long lines and invalid UTF-8."""
    rng = random.Random(seed)  # noqa: S311 - test data, not cryptography
    block: list[bytes] = []
    for index in range(20_000):
        roll = rng.random()
        if roll < 0.002:
            block.append(b"#BUTIDO:PROGRESS:%d" % (index % 101))
        elif roll < 0.003:
            block.append(b"#BUTIDO:PHASE:build")
        elif roll < 0.004:
            block.append(b"#BUTIDO:STATE:OK")
        elif roll < 0.005:
            block.append(b"x" * 3000)
        elif roll < 0.006:
            block.append(b"binary \xff\xfe garbage")
        else:
            block.append(b" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14))))
    piece = b"\n".join(block) + b"\n"
    return (piece * (size // len(piece) + 1))[:size]


def parse_streaming(data: bytes) -> tuple[int, LogOutcome, int]:
    """Like a job does: records per chunk, the stored text built as it goes, nothing else kept."""
    parser = LogParser()
    count = 0
    stored: list[str] = []
    outcome = LogOutcome(LogVerdict.UNKNOWN)
    view = memoryview(data)
    for offset in range(0, len(data) + CHUNK, CHUNK):
        chunk = bytes(view[offset : offset + CHUNK])
        records = parser.feed(chunk) if chunk else parser.finish()
        count += len(records)
        outcome = outcome.then(log_outcome(records))
        if records:
            stored.append(stored_form(records))
    return count, outcome, len("\n".join(stored))


def parse_only(data: bytes) -> int:
    parser = LogParser()
    count = 0
    view = memoryview(data)
    for offset in range(0, len(data), CHUNK):
        count += len(parser.feed(bytes(view[offset : offset + CHUNK])))
    return count + len(parser.finish())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    data = synthetic_log(args.megabytes * 1_000_000)
    megabytes = len(data) / 1_000_000

    start = time.perf_counter()
    count = parse_only(data)
    parse_seconds = time.perf_counter() - start

    start = time.perf_counter()
    _, outcome, stored = parse_streaming(data)
    stream_seconds = time.perf_counter() - start

    print(f"log size:              {megabytes:.0f} MB, {count:,} records")
    print(f"parse:                 {parse_seconds:.2f} s = {megabytes / parse_seconds:.0f} MB/s")
    print(
        f"parse + stored form:   {stream_seconds:.2f} s = {megabytes / stream_seconds:.0f} MB/s"
        f" ({outcome.verdict}, {stored / 1_000_000:.0f} MB of text)"
    )


if __name__ == "__main__":
    main()
