"""One job in its container: inputs in, output streamed and parsed live, exit code, /outputs out.

The container contract is DESIGN.md §3. Success is no `#BUTIDO:STATE:ERR` line and exit code 0;
only then is `/outputs` copied into the staging directory.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, closing, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from butido_py.config.model import EndpointConfig
from butido_py.endpoint.docker_job import (
    SCRIPT_PATH,
    ContainerSpec,
    Defer,
    EndpointClients,
    EngineFailureError,
    InputFile,
    JobContainer,
    job_container,
)
from butido_py.errors import ButidoError, EndpointError
from butido_py.logproto import LogOutcome, LogParser, LogRecord, LogVerdict, RecordKind, log_outcome
from butido_py.orchestrator.inputs import inputs_layout
from butido_py.orchestrator.model import Artifact, BuildJob
from butido_py.states import FailureKind
from butido_py.stores.staging import StagedFile, extract_outputs

#: How often the output of a running job is appended to its log (seconds): short, so that a
#: follower (`db log-of --follow`) sees a line soon after it was printed ...
LOG_FLUSH_SECONDS = 0.25
#: ... or sooner, once this many bytes wait. An append is one INSERT of a chunk (db/logs.py),
#: whatever the log's length, so a chunk's size only bounds what waits in memory.
LOG_FLUSH_BYTES = 1 << 20
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")
#: Seconds a timed-out job's container gets between SIGTERM and SIGKILL.
TIMEOUT_GRACE_SECONDS = 1

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ContainerOutcome:
    exit_code: int | None = None
    log: LogOutcome = field(default_factory=lambda: LogOutcome(LogVerdict.UNKNOWN))
    #: The last lines of the log (index in the whole log, stored form).
    tail: list[tuple[int, str]] = field(default_factory=list)
    staged: list[StagedFile] = field(default_factory=list)
    container_id: str | None = None
    #: When the container had stopped (the end of the job's running interval).
    exited_at: datetime | None = None
    error: ButidoError | None = None
    failure_kind: FailureKind | None = None
    #: The endpoint failed (unreachable, container not created, inputs or outputs not copied,
    #: the engine died while the job ran), not the job: it may be retried elsewhere (failover).
    endpoint_failed: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.failure_kind is None


@dataclass(frozen=True, slots=True)
class ContainerHooks:
    """Called from the job's worker thread as things happen."""

    #: The container exists with its inputs (its id); return False to stop (the run was canceled).
    created: Callable[[str], bool]
    #: A `#BUTIDO:` marker line (phase, progress, state).
    record: Callable[[LogRecord], None]
    #: More of the job's output, byte for byte, to append to the job's log.
    log_bytes: Callable[[bytes], None]
    #: Entered to run the container (container id): it may wait for a free slot of the endpoint
    #: and is left when the container has stopped, before /outputs is copied out.
    running: Callable[[str], AbstractContextManager[object]] = lambda _id: nullcontext()


class LogCollector:
    """Follows a job's output without keeping it whole: the verdict, the last lines, the bytes
    in chunks for the database (at most `max_size`, then a marker), optionally every line in a
    log file."""

    def __init__(
        self,
        hooks: ContainerHooks,
        *,
        tail: int,
        log_file: IO[str] | None,
        max_size: int | None = None,
    ) -> None:
        self._hooks = hooks
        self._parser = LogParser()
        self._tail: deque[tuple[int, str]] = deque(maxlen=max(0, tail))
        self._file = log_file
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        #: Bytes kept for the database so far, and those dropped beyond `max_size`.
        self._kept = 0
        self._dropped = 0
        self._max_size = max_size
        self._last_flush = time.monotonic()
        self._count = 0
        self.log = LogOutcome(LogVerdict.UNKNOWN)

    @property
    def tail(self) -> list[tuple[int, str]]:
        return list(self._tail)

    def feed(self, chunk: bytes) -> None:
        self._take(self._parser.feed(chunk))
        self._keep(chunk)
        if (
            self._pending_bytes >= LOG_FLUSH_BYTES
            or time.monotonic() - self._last_flush >= LOG_FLUSH_SECONDS
        ):
            self._flush()

    def finish(self) -> None:
        self._take(self._parser.finish())
        if self._dropped:
            self._pending.append(log_cut_marker(self._max_size or 0, self._dropped))
        self._flush()

    def _keep(self, chunk: bytes) -> None:
        """The chunk as it came, or the part of it below the cap."""
        if self._max_size is not None and self._kept + len(chunk) > self._max_size:
            room = max(0, self._max_size - self._kept)
            self._dropped += len(chunk) - room
            chunk = chunk[:room]
        if chunk:
            self._pending.append(chunk)
            self._pending_bytes += len(chunk)
            self._kept += len(chunk)

    def _take(self, records: list[LogRecord]) -> None:
        """The verdict, the markers, the last lines (only they are decoded: a fast build prints
        millions of lines) and the log file."""
        if not records:
            return
        self.log = self.log.then(log_outcome(records))
        for record in records:
            if record.kind is not RecordKind.LINE:
                self._hooks.record(record)
        start, self._count = self._count, self._count + len(records)
        first = max(0, len(records) - (self._tail.maxlen or 0))
        self._tail.extend((start + i, _shown(records[i])) for i in range(first, len(records)))
        if self._file is not None:
            self._file.write("".join(f"{_shown(record)}\n" for record in records))

    def _flush(self) -> None:
        if self._pending:
            self._hooks.log_bytes(b"".join(self._pending))
            self._pending.clear()
            self._pending_bytes = 0
        self._last_flush = time.monotonic()


def _shown(record: LogRecord) -> str:
    return record.canonical.replace("\0", "")


def log_cut_marker(max_size: int, dropped: int) -> bytes:
    """The line that ends a log cut at `max_size` bytes (config key max_log_size)."""
    return (
        f"\n#BUTIDO-LOG-CUT: the log was cut at max_log_size = {max_size} bytes; "
        f"{dropped} more bytes were not stored\n"
    ).encode()


def container_name(job: BuildJob) -> str:
    name = f"butido-{job.package.name}-{job.package.version}-{job.uuid}"
    return _NAME_UNSAFE.sub("_", name)


def container_inputs(
    job: BuildJob,
    dependency_artifacts: Sequence[Artifact],
    patch_contents: Mapping[str, bytes],
) -> list[InputFile]:
    """`/script`, sources and dependency artifacts under `/inputs`, patches under `/patches`.

    The run checked `/inputs` for collisions when the job became ready (orchestrator/inputs.py);
    checked again here, so that no container starts with an input shadowed by another."""
    inputs = {SCRIPT_PATH: InputFile(SCRIPT_PATH, data=job.script.encode(), mode=0o755)}
    labelled = ((_made_by(artifact), artifact) for artifact in dependency_artifacts)
    for entry in inputs_layout(job, labelled):
        inputs[entry.container_path] = InputFile(entry.container_path, source=entry.file)
    for patch in job.package.patches:
        target = f"/patches/{patch}"
        inputs[target] = InputFile(target, data=patch_contents[patch])
    return list(inputs.values())


def _made_by(artifact: Artifact) -> str:
    return "a reused job" if artifact.made_by is None else f"job {artifact.made_by}"


@dataclass(frozen=True, slots=True)
class ContainerRun:
    """What to run where, and where its results go."""

    endpoint: EndpointConfig
    spec: ContainerSpec
    staging_dir: Path
    job: uuid.UUID
    keep: bool = False
    #: How many of the last log lines to keep for the report.
    tail: int = 10
    #: Also write the log here (`--write-log`).
    log_path: Path | None = None
    #: Seconds the container may run (from its start) before it is stopped; None: no limit.
    timeout: float | None = None
    #: Bytes of the log stored at most (config key max_log_size); None: no limit.
    max_log_size: int | None = None
    #: Bytes the job's outputs may have together (`max_output_size`); None: no limit.
    max_output_size: int | None = None


class Deadline:
    """Stops a running container once `seconds` have passed (a timer thread); `expired` says
    whether it did so before the job ended by itself."""

    def __init__(self, container: JobContainer, seconds: float | None) -> None:
        self._container = container
        self._lock = threading.Lock()
        self._ended = False
        self.expired = False
        self._timer: threading.Timer | None = None
        if seconds is not None:
            self._timer = threading.Timer(seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            if self._ended:
                return
            self.expired = True
        try:
            # Stopped, not removed: the output stream ends, the run goes on as for any end of
            # the container, and job_container removes it (unless --keep-containers).
            self._container.stop(timeout=TIMEOUT_GRACE_SECONDS)
        except EndpointError as error:
            log.warning("stopping timed-out container %s failed: %s", self._container.id, error)

    def end(self) -> None:
        with self._lock:
            self._ended = True
        if self._timer is not None:
            self._timer.cancel()


def timeout_error(seconds: float) -> ButidoError:
    return ButidoError(
        f"the job ran longer than its timeout of {seconds:g} s and was stopped",
        hint="raise it with `build --timeout`, the package's meta key job_timeout or "
        "docker.job_timeout in config.toml (docs/build.md)",
    )


def run_container(
    run: ContainerRun,
    hooks: ContainerHooks,
    *,
    clients: EndpointClients | None = None,
    defer_removal: Defer | None = None,
) -> ContainerOutcome:
    """Run the job's container to its end; the log goes to `hooks` (and `run.log_path`)."""
    with ExitStack() as stack:
        log_file = None
        if run.log_path is not None:
            run.log_path.parent.mkdir(parents=True, exist_ok=True)
            log_file = stack.enter_context(run.log_path.open("x", encoding="utf-8"))
        return _run(run, hooks, clients, defer_removal, log_file)


def _run(
    run: ContainerRun,
    hooks: ContainerHooks,
    clients: EndpointClients | None,
    defer_removal: Defer | None,
    log_file: IO[str] | None,
) -> ContainerOutcome:
    outcome = ContainerOutcome()
    try:
        with job_container(
            run.endpoint, run.spec, keep=run.keep, clients=clients, defer_removal=defer_removal
        ) as container:
            outcome.container_id = container.id
            if not hooks.created(container.id):
                outcome.failure_kind = FailureKind.CANCELED
                return outcome
            with hooks.running(container.id):
                _follow(run, container, hooks, outcome, log_file)
            if outcome.failure_kind is FailureKind.TIMEOUT:
                return outcome
            if outcome.log.verdict is LogVerdict.FAILED or outcome.exit_code != 0:
                outcome.failure_kind = FailureKind.SCRIPT
                return outcome
            try:
                # Closed at once when the archive is refused half-way (see outputs_archive).
                with closing(container.outputs_archive()) as archive:
                    outcome.staged = extract_outputs(
                        archive, run.staging_dir, job=str(run.job), max_size=run.max_output_size
                    )
            except EngineFailureError as error:  # the copy failed, not the archive's content
                outcome.error = error
                outcome.failure_kind = FailureKind.INFRA
                outcome.endpoint_failed = True
            except ButidoError as error:
                outcome.error = error
                outcome.failure_kind = FailureKind.OUTPUTS
    except ButidoError as error:
        # Everything but the outputs' content above is the engine's part: creating, filling,
        # starting, streaming, waiting for the container.
        outcome.error = error
        outcome.failure_kind = outcome.failure_kind or FailureKind.INFRA
        outcome.endpoint_failed = outcome.failure_kind is FailureKind.INFRA
    return outcome


def _follow(
    run: ContainerRun,
    container: JobContainer,
    hooks: ContainerHooks,
    outcome: ContainerOutcome,
    log_file: IO[str] | None,
) -> None:
    """Start the container and follow its output until it stops (by itself or at its
    deadline); its exit code into `outcome`, and `timeout` as its failure when it ran out."""
    container.start()
    deadline = Deadline(container, run.timeout)
    collector = LogCollector(hooks, tail=run.tail, log_file=log_file, max_size=run.max_log_size)
    try:
        for chunk in container.output():
            collector.feed(chunk)
        outcome.exit_code = container.wait()
        outcome.exited_at = datetime.now(UTC)
    except ButidoError:
        if not deadline.expired:
            raise
        # The stop at the deadline broke the stream: the job ran out, the engine did not fail.
    finally:
        deadline.end()
        collector.finish()
        outcome.log, outcome.tail = collector.log, collector.tail
    if deadline.expired and run.timeout is not None:
        outcome.failure_kind = FailureKind.TIMEOUT
        outcome.error = timeout_error(run.timeout)
        outcome.exited_at = outcome.exited_at or datetime.now(UTC)
