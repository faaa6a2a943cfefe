"""`build --dry-run`: every check and the plan, then each job's decision, with nothing written and
no container started.

A job whose dependencies are all reused has known inputs: its key is computed exactly as a build
would and an earlier job with that key (artifacts on disk) is reused, or it runs, with the
components that differ from the nearest earlier job of its package version. A job that needs a job
that runs cannot be decided before that job's outputs exist: it runs when a component of its own
key changed, and otherwise only if those outputs come out different (early cutoff).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from butido_py.app.build import BuildRequest, check_build
from butido_py.app.explain import earlier_documents
from butido_py.app.services import Services
from butido_py.orchestrator.model import (
    Artifact,
    BuildJob,
    PreparedBuild,
    artifact_origins,
    needed_artifacts,
)
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.orchestrator.reuse import ReuseDecisions
from butido_py.plan.job_key import key_of_document
from butido_py.plan.key_explain import Change, Component, KeyDocument, describe, explain

_REUSE_OFF = Change(Component.UNAVAILABLE, "--no-reuse: every job runs")


class Decision(StrEnum):
    REUSE = "reuse"
    RUN = "run"
    #: Runs only if a job it needs, which runs, makes other artifacts than before.
    RUN_IF_INPUTS_CHANGE = "run-if-inputs-change"


@dataclass(frozen=True, slots=True)
class JobDecision:
    job: BuildJob
    decision: Decision
    #: The job reused, or the earlier job the key was compared with.
    other: uuid.UUID | None = None
    changes: tuple[Change, ...] = ()
    #: The jobs it needs that run (RUN_IF_INPUTS_CHANGE).
    waits_for: tuple[str, ...] = ()

    def reason(self) -> str:
        if self.decision is Decision.REUSE:
            return f"reuse job {self.other} (same key)"
        if self.decision is Decision.RUN_IF_INPUTS_CHANGE:
            return f"runs only if the artifacts of {', '.join(self.waits_for)} come out different"
        return "run: " + describe(self.other, self.changes)

    def as_json(self) -> dict[str, object]:
        return {
            "job": str(self.job.uuid),
            "package": self.job.package.name,
            "version": self.job.package.version,
            "decision": str(self.decision),
            "reused_from": str(self.other) if self.decision is Decision.REUSE else None,
            "compared_with": str(self.other) if self.decision is not Decision.REUSE else None,
            "changes": [change.as_json() for change in self.changes],
            "waits_for": list(self.waits_for),
        }


@dataclass(frozen=True, slots=True)
class DryRun:
    prepared: PreparedBuild
    decisions: tuple[JobDecision, ...] = field(default_factory=tuple)

    def count(self, decision: Decision) -> int:
        return sum(1 for d in self.decisions if d.decision is decision)


def dry_run(request: BuildRequest, services: Services) -> DryRun:
    """Check and plan like `build`, then decide each job without recording or running it."""
    prepared = check_build(request, services)
    deciding = _Decider(prepared, services)
    return DryRun(prepared, tuple(deciding.decide(job) for job in prepared.jobs))


class _Decider:
    """Decisions in plan order (every job after the jobs it needs)."""

    def __init__(self, prepared: PreparedBuild, services: Services) -> None:
        self._services = services
        self._prepared = prepared
        self._reuse = ReuseDecisions(prepared, BuildRecorder(services.database()))
        self._jobs = {job.uuid: job for job in prepared.jobs}
        self._decided: dict[uuid.UUID, JobDecision] = {}
        self._artifacts: dict[uuid.UUID, tuple[Artifact, ...]] = {}

    def decide(self, job: BuildJob) -> JobDecision:
        if not self._prepared.settings.reuse:  # --no-reuse: every job runs
            return self._remember(job, JobDecision(job, Decision.RUN, None, (_REUSE_OFF,)))
        running = [need for need in job.transitive if self._runs(need)]
        inputs = needed_artifacts(job, self._artifacts)
        origins = artifact_origins(job, self._jobs, self._artifacts)
        document = self._reuse.document(job, inputs, origins)
        pending = self._pending(job, document, running) if running else None
        return self._remember(job, pending or self._known(job, document))

    def _remember(self, job: BuildJob, decision: JobDecision) -> JobDecision:
        self._decided[job.uuid] = decision
        return decision

    def _runs(self, job: uuid.UUID) -> bool:
        return self._decided[job].decision is not Decision.REUSE

    def _known(self, job: BuildJob, document: KeyDocument) -> JobDecision:
        match = self._reuse.match(job, key_of_document(document.key), needs_reused=True)
        if match is not None:
            self._artifacts[job.uuid] = match.artifacts
            return JobDecision(job, Decision.REUSE, match.job)
        other, changes = self._explain(job, document)
        return JobDecision(job, Decision.RUN, other, tuple(changes))

    def _pending(
        self, job: BuildJob, document: KeyDocument, running: list[uuid.UUID]
    ) -> JobDecision:
        other, changes = self._explain(job, document)
        own = tuple(c for c in changes if c.component is not Component.INPUT)
        if own:
            return JobDecision(job, Decision.RUN, other, own)
        waits = tuple(self._jobs[need].label for need in running)
        return JobDecision(job, Decision.RUN_IF_INPUTS_CHANGE, other, (), waits)

    def _explain(
        self, job: BuildJob, document: KeyDocument
    ) -> tuple[uuid.UUID | None, list[Change]]:
        package = job.package
        earlier = earlier_documents(self._services.database(), package.name, package.version)
        other, changes = explain(document, [(str(j), d) for j, d in earlier], job.label)
        return (uuid.UUID(other) if other else None), changes
