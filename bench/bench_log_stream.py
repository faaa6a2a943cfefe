"""Benchmark: how fast butido reads a job's output from the engine and parses it (MB/s), with no
database: where the time of `bench_log_throughput.py` goes on the butido side.

A container of the tiny image prints `--log-mb` MB of build-output lines (`yes | head -c`); its
output is read as a build reads it (`JobContainer.output()` into `LogCollector`, whose chunks
are dropped) once per reader, side by side in one run: `frames` reads Docker's multiplexed
stream frame by frame (8-byte header, payload: the reading before issue 18's fix), `blocks`
is what butido does (`docker_job.demultiplex`). `--profile` prints cProfile's top functions of
each. The load average is printed with the figures: the machine may be shared.

    .venv/bin/python bench/bench_log_stream.py [--log-mb 100] [--docker-host URL] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import nullcontext

from butido_py.config.model import EndpointConfig, EndpointType
from butido_py.endpoint import docker_job
from butido_py.endpoint.docker_job import ContainerSpec, JobContainer, job_container
from butido_py.orchestrator.container_run import ContainerHooks, LogCollector

IMAGE = "butido-tiny:latest"
SCRIPT = 'yes "cc -O2 -c some/long/path/to/a/source/file.c -o file.o # a line" | head -c {size}'


def frames(read: Callable[[int], bytes]) -> Iterator[bytes]:
    """The old reader: a header, then its payload, each read from the response on its own."""
    while True:
        header = read(8)
        if len(header) < 8:
            return
        size = int.from_bytes(header[4:8], "big")
        if size:
            payload = read(size)
            if payload:
                yield payload
            if len(payload) < size:
                return


def read_output(container: JobContainer, reader: str) -> tuple[int, int]:
    """(bytes, pieces) of the container's whole output, through `reader`."""
    stored = [0, 0]

    def keep(data: bytes) -> None:
        stored[0] += len(data)

    hooks = ContainerHooks(
        created=lambda _: True, record=lambda _: None, log_bytes=keep, running=nullcontext
    )
    collector = LogCollector(hooks, tail=10, log_file=None)
    originals = docker_job.demultiplex, docker_job.response_blocks
    if reader == "frames":  # the old reading: frames straight from urllib3's `read`
        docker_job.response_blocks = lambda response: response.raw.read
        docker_job.demultiplex = frames  # type: ignore[assignment]
    try:
        for piece in container.output():
            stored[1] += 1
            collector.feed(piece)
        collector.finish()
    finally:
        docker_job.demultiplex, docker_job.response_blocks = originals
    return stored[0], stored[1]


def measure(endpoint: EndpointConfig, size: int, reader: str, profile: bool) -> None:
    spec = ContainerSpec(
        image=IMAGE,
        name=f"bench-log-stream-{uuid.uuid4().hex[:12]}",
        labels={"butido.bench": "log-stream"},
        environment=(),
        command=("sh", "-c", SCRIPT.format(size=size)),
    )
    with job_container(endpoint, spec) as container:
        container.start()
        container.wait()  # all output is in the engine's log: the reading alone is timed
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        with profiler or nullcontext():
            stored, pieces = read_output(container, reader)
        seconds = time.perf_counter() - started
    print(
        f"  {reader:6}: {stored / 1e6:.0f} MB in {seconds:.2f} s, {stored / 1e6 / seconds:.1f} "
        f"MB/s, {pieces} pieces from the stream; load average {os.getloadavg()[0]:.2f}"
    )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-mb", type=int, default=100, help="MB the container prints")
    parser.add_argument("--docker-host", default="unix:///var/run/docker.sock")
    parser.add_argument("--rounds", type=int, default=2, help="times each reader is measured")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    args = parser.parse_args()
    kind = EndpointType.SOCKET if args.docker_host.startswith("unix://") else EndpointType.HTTP
    endpoint = EndpointConfig(
        name="bench", uri=args.docker_host, endpoint_type=kind, maxjobs=1, timeout=60
    )
    print(f"log stream reading, {args.log_mb} MB of lines, {args.docker_host}:")
    for _ in range(args.rounds):
        for reader in ("frames", "blocks"):
            measure(endpoint, args.log_mb * 1_000_000, reader, args.profile)


if __name__ == "__main__":
    main()
