"""Progress of a build: tqdm bars on a terminal, one plain line per event otherwise.

On a terminal each running job has a bar (endpoint, short container id, package, version, phase,
`#BUTIDO:PROGRESS` percentage) and a total bar counts finished jobs. Elsewhere (CI logs, pipes)
every event is one line with a UTC time stamp. Both are called from worker threads.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

import click
from tqdm import tqdm

from butido_py.orchestrator.model import JobEvent, JobEventKind, PreparedBuild
from butido_py.states import JobState

#: Final job states the total bar names (the others need no mention).
_SHOWN = frozenset({JobState.FAILED, JobState.DEP_FAILED, JobState.CANCELED})


class PlainProgress:
    """One line per event, for logs: `HH:MM:SS event package version details`."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self._stream = stream
        self._quiet = quiet
        self._lock = threading.Lock()
        self._total = 0
        self._done = 0

    def started(self, prepared: PreparedBuild) -> None:
        self._total = len(prepared.jobs)

    def event(self, event: JobEvent) -> None:
        if event.kind is JobEventKind.PROGRESS:
            return
        text = _describe(event)
        with self._lock:
            if event.kind is JobEventKind.FINISHED:
                self._done += 1
                text += f" [{self._done}/{self._total}]"
            if not self._quiet:
                click.echo(f"{datetime.now(UTC):%H:%M:%S} {text}", file=self._stream)

    def finished(self) -> None:
        return


#: Events told by a word and the job.
_WORDS = {JobEventKind.QUEUED: "queued", JobEventKind.REUSED: "reusing"}


def _describe(event: JobEvent) -> str:
    what = f"{event.package} {event.version}"
    if event.kind is JobEventKind.STARTED:
        return f"started   {what} on {event.endpoint} ({(event.container or '')[:12]})"
    if event.kind is JobEventKind.PHASE:
        return f"phase     {what}: {event.phase}"
    if event.kind in _WORDS:
        return f"{_WORDS[event.kind]:<9} {what}"
    if event.kind is JobEventKind.RETRY:
        return f"retrying  {what}: endpoint {event.endpoint} failed; {event.detail}"
    if event.kind is JobEventKind.WAITING:
        return f"waiting   {what} for {event.detail}, the same work in another build"
    return f"{event.state or 'finished':<9} {what}"


class BarProgress:
    """tqdm bars: one per running job plus a total bar at the top.

    Once `cancel` is set (Ctrl-C) the bars are cleared off the screen at the next event, then
    `on_cancel` says what happens (a notice printed among live bars would be torn by them) and
    nothing more is drawn: the canceled jobs do not fill the total bar."""

    def __init__(
        self,
        cancel: threading.Event | None = None,
        on_cancel: Callable[[], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._bars: dict[uuid.UUID, tqdm[Any]] = {}
        self._labels: dict[uuid.UUID, dict[str, str]] = {}
        self._total: tqdm[Any] | None = None
        self._cancel = cancel
        self._on_cancel = on_cancel
        self._cleared = False

    def _canceled(self) -> bool:
        """Clears every bar the first time the build is found canceled (under the lock)."""
        if self._cleared:
            return True
        if self._cancel is None or not self._cancel.is_set():
            return False
        self._cleared = True
        self._clear()
        if self._on_cancel is not None:
            self._on_cancel()
        return True

    def _clear(self) -> None:
        for bar in [*self._bars.values(), *([self._total] if self._total else [])]:
            bar.leave = False
            bar.close()
        self._bars.clear()
        self._labels.clear()
        self._total = None

    def started(self, prepared: PreparedBuild) -> None:
        with self._lock:
            self._total = tqdm(
                total=len(prepared.jobs),
                desc=f"{prepared.root.name} {prepared.root.version}",
                unit="job",
                position=0,
                file=sys.stdout,
                dynamic_ncols=True,
            )

    def event(self, event: JobEvent) -> None:
        with self._lock:
            if self._canceled():
                return
            if event.kind is JobEventKind.STARTED:
                self._labels[event.job] = {
                    "endpoint": event.endpoint or "",
                    "container": (event.container or "")[:12],
                    "package": f"{event.package} {event.version}",
                    "phase": "starting",
                }
                self._bars[event.job] = tqdm(
                    total=100,
                    file=sys.stdout,
                    leave=False,
                    dynamic_ncols=True,
                    bar_format="{desc} {bar} {n_fmt}%",
                )
                self._describe(event.job)
            elif event.kind is JobEventKind.PHASE and event.job in self._bars:
                self._labels[event.job]["phase"] = event.phase or ""
                self._describe(event.job)
            elif event.kind is JobEventKind.PROGRESS and event.job in self._bars:
                bar = self._bars[event.job]
                bar.update(max(0, min(100, event.progress or 0)) - bar.n)
            elif event.kind is JobEventKind.RETRY:
                self._retry(event)
            elif event.kind is JobEventKind.WAITING and self._total is not None:
                self._total.write(_describe(event))
            elif event.kind is JobEventKind.FINISHED:
                self._finish(event)

    def _retry(self, event: JobEvent) -> None:
        """The job's bar goes (a new one comes when it starts again); the total bar says why."""
        bar = self._bars.pop(event.job, None)
        self._labels.pop(event.job, None)
        if bar is not None:
            bar.close()
        if self._total is not None:
            self._total.write(_describe(event))

    def _describe(self, job: uuid.UUID) -> None:
        label = self._labels[job]
        self._bars[job].set_description_str(
            f"{label['endpoint']} {label['container']} {label['package']} [{label['phase']}]"
        )

    def _finish(self, event: JobEvent) -> None:
        bar = self._bars.pop(event.job, None)
        self._labels.pop(event.job, None)
        if bar is not None:
            bar.close()
        if self._total is not None:
            self._total.update(1)
            if event.state in _SHOWN:
                self._total.write(f"{event.state}: {event.package} {event.version}")

    def finished(self) -> None:
        with self._lock:
            if self._canceled():
                return
            for bar in self._bars.values():
                bar.close()
            self._bars.clear()
            if self._total is not None:
                self._total.close()
