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
        self.texts: list[str] = []

    def hooks(self) -> ContainerHooks:
        return ContainerHooks(
            created=lambda _: True, record=self.markers.append, log_text=self.texts.append
        )


def test_collector_keeps_the_verdict_the_tail_and_the_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(container_run, "LOG_FLUSH_SECONDS", 0.0)  # flush after every chunk
    seen = Hooks()
    log_file = io.StringIO()
    collector = LogCollector(seen.hooks(), tail=2, log_file=log_file)
    collector.feed(b"#BUTIDO:PHASE:build\nline \x00one\n#BUTIDO:PROG")
    collector.feed(b'RESS:50\n#BUTIDO:STATE:ERR:"broken"\nlast')
    collector.finish()
    assert collector.log.verdict is LogVerdict.FAILED
    assert collector.log.phase == "build"
    assert collector.log.error == "broken"
    assert collector.tail == [(3, "#BUTIDO:STATE:ERR:broken"), (4, "last")]
    assert [m.kind for m in seen.markers] == [
        RecordKind.PHASE,
        RecordKind.PROGRESS,
        RecordKind.ERR,
    ]
    stored = "#BUTIDO:PHASE:build\nline one\n#BUTIDO:PROGRESS:50\n#BUTIDO:STATE:ERR:broken\nlast"
    assert "".join(seen.texts) == stored  # NUL bytes removed, batches joined by line breaks
    assert len(seen.texts) == 3
    assert log_file.getvalue() == stored + "\n"


def test_collector_batches_the_text_between_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(container_run, "LOG_FLUSH_SECONDS", 3600.0)
    seen = Hooks()
    collector = LogCollector(seen.hooks(), tail=10, log_file=None)
    for n in range(5):
        collector.feed(f"line {n}\n".encode())
    assert seen.texts == []  # nothing written before the flush interval has passed
    collector.finish()
    assert seen.texts == ["\n".join(f"line {n}" for n in range(5))]
    assert collector.log.verdict is LogVerdict.UNKNOWN


def test_collector_flushes_early_when_much_text_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A job that prints fast is held in memory only up to LOG_FLUSH_CHARS, whatever the time."""
    monkeypatch.setattr(container_run, "LOG_FLUSH_SECONDS", 3600.0)
    monkeypatch.setattr(container_run, "LOG_FLUSH_CHARS", 100)
    seen = Hooks()
    collector = LogCollector(seen.hooks(), tail=10, log_file=None)
    lines = [f"line {n:03d} of a fast build" for n in range(20)]  # 24 characters + a newline
    for line in lines:
        collector.feed(f"{line}\n".encode())
    assert [len(text.strip("\n").split("\n")) for text in seen.texts] == [4, 4, 4, 4, 4]
    collector.finish()
    assert "".join(seen.texts) == "\n".join(lines)


def test_the_early_flush_waits_longer_as_the_log_grows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every append rewrites the stored log: beyond 4 x LOG_FLUSH_CHARS, a quarter of what was
    appended so far must wait before the next append."""
    monkeypatch.setattr(container_run, "LOG_FLUSH_SECONDS", 3600.0)
    monkeypatch.setattr(container_run, "LOG_FLUSH_CHARS", 100)
    monkeypatch.setattr(container_run, "LOG_FLUSH_MAX_CHARS", 500)
    seen = Hooks()
    collector = LogCollector(seen.hooks(), tail=10, log_file=None)
    for n in range(400):
        collector.feed(f"line {n:03d} of a fast build\n".encode())  # 25 characters each
    sizes = [len(text.strip("\n").split("\n")) for text in seen.texts]
    assert sizes[:4] == [4, 4, 4, 4]  # 100 characters while less than 400 were appended
    assert sizes[4:7] == [4, 5, 7]  # then a quarter of what was appended so far (400, 500, 625)
    assert max(sizes) == 20  # never more than LOG_FLUSH_MAX_CHARS waits
    assert len(sizes) < 400 // 4 / 2  # far fewer appends than at a fixed size
