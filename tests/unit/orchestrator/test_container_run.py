"""The parts of a job's container run that need no Docker: inputs, names, log collection."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest

from butido_py.logproto import LogRecord, LogVerdict, RecordKind
from butido_py.orchestrator import container_run
from butido_py.orchestrator.container_run import (
    ContainerHooks,
    LogCollector,
    container_inputs,
    container_name,
)
from butido_py.orchestrator.model import Artifact, BuildJob
from butido_py.package.model import HashType, Package, Source
from butido_py.sources.cache import SourceCache


def job(tmp_path: Path, version: str = "1.0") -> BuildJob:
    package = Package(
        name="zlib",
        version=version,
        version_is_semver=False,
        sources=(Source("src", "http://x/src", HashType.SHA256, "0" * 64),),
        build_dependencies=(),
        runtime_dependencies=(),
        patches=("libs/zlib/fix.patch",),
        phases=(),
    )
    return BuildJob(
        uuid=uuid.UUID(int=7),
        package=package,
        script="#!/bin/bash\necho hi\n",
        env=(),
        needs=(),
        transitive=(),
        sources=tuple(SourceCache(tmp_path).entries([package])),
    )


def test_inputs_follow_the_container_contract(tmp_path: Path) -> None:
    artifacts = [
        Artifact(1, "sub/libc-2.38.pkg", tmp_path / "a", "1" * 64),
        Artifact(2, "make-4.4.1.pkg", tmp_path / "b", "2" * 64),
    ]
    inputs = container_inputs(job(tmp_path), artifacts, {"libs/zlib/fix.patch": b"+++ x\n"})
    by_path = {item.container_path: item for item in inputs}
    assert sorted(by_path) == [
        "/inputs/libc-2.38.pkg",  # flattened: sub-directories are dropped
        "/inputs/make-4.4.1.pkg",
        "/inputs/src.source",
        "/patches/libs/zlib/fix.patch",
        "/script",
    ]
    assert by_path["/script"].mode == 0o755
    assert by_path["/script"].data == b"#!/bin/bash\necho hi\n"
    assert by_path["/inputs/src.source"].source == tmp_path / "zlib-1.0" / "src.source"
    assert by_path["/patches/libs/zlib/fix.patch"].data == b"+++ x\n"


def test_container_names_are_valid_for_docker(tmp_path: Path) -> None:
    name = container_name(job(tmp_path, version="1.2+git~3"))
    assert name == f"butido-zlib-1.2_git_3-{uuid.UUID(int=7)}"


class Hooks:
    def __init__(self) -> None:
        self.markers: list[LogRecord] = []
        self.chunks: list[bytes] = []

    def hooks(self) -> ContainerHooks:
        return ContainerHooks(
            created=lambda _: True, record=self.markers.append, log_bytes=self.chunks.append
        )


def test_collector_keeps_the_verdict_the_tail_and_the_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(container_run, "LOG_FLUSH_SECONDS", 0.0)  # flush after every chunk
    seen = Hooks()
    log_file = io.StringIO()
    collector = LogCollector(seen.hooks(), tail=2, log_file=log_file)
    printed = [b"#BUTIDO:PHASE:build\nline \x00one\n#BUTIDO:PROG",
               b'RESS:50\r\n#BUTIDO:STATE:ERR:"broken"\nlast \xff']  # fmt: skip
    for chunk in printed:
        collector.feed(chunk)
    collector.finish()
    assert collector.log.verdict is LogVerdict.FAILED
    assert collector.log.phase == "build"
    assert collector.log.error == "broken"
    assert collector.tail == [(3, "#BUTIDO:STATE:ERR:broken"), (4, "last \ufffd")]
    assert [m.kind for m in seen.markers] == [
        RecordKind.PHASE,
        RecordKind.PROGRESS,
        RecordKind.ERR,
    ]
    assert seen.chunks == printed  # byte for byte: NUL, CR, quotes and invalid UTF-8 kept
    stored = "#BUTIDO:PHASE:build\nline one\n#BUTIDO:PROGRESS:50\n#BUTIDO:STATE:ERR:broken\n"
    assert log_file.getvalue() == stored + "last \ufffd\n"


def test_collector_batches_the_bytes_between_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(container_run, "LOG_FLUSH_SECONDS", 3600.0)
    seen = Hooks()
    collector = LogCollector(seen.hooks(), tail=10, log_file=None)
    for n in range(5):
        collector.feed(f"line {n}\n".encode())
    assert seen.chunks == []  # nothing written before the flush interval has passed
    collector.finish()
    assert seen.chunks == ["".join(f"line {n}\n" for n in range(5)).encode()]
    assert collector.log.verdict is LogVerdict.UNKNOWN


def test_collector_flushes_early_when_much_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A job that prints fast is held in memory only up to LOG_FLUSH_BYTES, whatever the time;
    a line without a line break is no exception (it is stored as printed, not cut in lines)."""
    monkeypatch.setattr(container_run, "LOG_FLUSH_SECONDS", 3600.0)
    monkeypatch.setattr(container_run, "LOG_FLUSH_BYTES", 100)
    seen = Hooks()
    collector = LogCollector(seen.hooks(), tail=10, log_file=None)
    for _ in range(20):
        collector.feed(b"x" * 25)
    assert [len(chunk) for chunk in seen.chunks] == [100] * 5
    collector.finish()
    assert b"".join(seen.chunks) == b"x" * 500


def test_collector_cuts_the_log_at_max_size_with_a_marker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(container_run, "LOG_FLUSH_SECONDS", 0.0)
    seen = Hooks()
    collector = LogCollector(seen.hooks(), tail=2, log_file=None, max_size=10)
    collector.feed(b"12345678")
    collector.feed(b"90abc\n#BUTIDO:STATE:ERR:late\n")
    collector.finish()
    stored = b"".join(seen.chunks)
    assert stored.startswith(b"1234567890\n#BUTIDO-LOG-CUT: the log was cut at max_log_size")
    assert stored.endswith(b"; 27 more bytes were not stored\n")
    assert collector.log.verdict is LogVerdict.FAILED  # what was cut still counts
