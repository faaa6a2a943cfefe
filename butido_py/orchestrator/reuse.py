"""Reuse by content (DESIGN.md §3): find an earlier job with the same key whose artifacts are all
still on disk — in any staging directory or release store — with the recorded sha256.

`ReuseDecisions` is what a build asks: the key of a job once its inputs are known, and the
earlier job it reuses, if any (the one a rerun names, or any with the same key).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping, Sequence

from butido_py.db.records import JobRecord
from butido_py.orchestrator.coalescing import Coalescing, OnWait
from butido_py.orchestrator.model import Artifact, BuildJob, PreparedBuild
from butido_py.orchestrator.recording import BuildRecorder
from butido_py.orchestrator.reuse_match import ReuseMatch
from butido_py.plan.job_key import key_document_of
from butido_py.plan.key_explain import KeyDocument
from butido_py.stores.artifact_locator import ArtifactLocator

log = logging.getLogger(__name__)


class ReuseDecisions:
    """The reuse decisions of one build (thread-safe: each file is hashed once per build)."""

    def __init__(self, prepared: PreparedBuild, recorder: BuildRecorder) -> None:
        self._prepared = prepared
        self._recorder = recorder
        settings = prepared.settings
        self._locator = ArtifactLocator(settings.staging_roots, settings.release_dirs)
        self._coalescing = Coalescing(
            prepared, recorder, lambda job: find_job_to_reuse(recorder, self._locator, job)
        )

    def document(
        self, job: BuildJob, inputs: Sequence[Artifact], origins: Mapping[str, str]
    ) -> KeyDocument:
        """The components of the job's key, from its real inputs (the artifacts of the jobs it
        needs), and where those came from (`origins`)."""
        key = key_document_of(
            job.package,
            script=job.script,
            image_digest=self._prepared.image_digest,
            env=job.env,
            patch_contents=self._prepared.patch_contents,
            input_sha256s=[a.sha256 for a in inputs],
        )
        return KeyDocument(
            key, {a.sha256: origins[a.sha256] for a in inputs if a.sha256 in origins}
        )

    def match(self, job: BuildJob, key: str, *, needs_reused: bool) -> ReuseMatch | None:
        """An earlier job to reuse: the one the plan names (a rerun), as long as every job this
        one needs was reused too, else any earlier job with the same key (when reuse is on)."""
        earlier = self._prepared.reuse_from.get(job.uuid)
        if earlier is not None and not needs_reused:
            # A job it needs ran again (its artifacts were gone): the earlier outputs were made
            # from other inputs. (Reuse by key below stays safe: keys hold input digests.)
            log.warning(
                "job %s of %s: a job it needs ran again, so it runs too", earlier, job.label
            )
        elif earlier is not None:
            match = find_job_to_reuse(self._recorder, self._locator, earlier)
            if match is not None:
                return match
            log.warning("job %s of %s: its artifacts are gone, it runs again", earlier, job.label)
        if not self._prepared.settings.reuse:
            return None
        name, version = job.package.name, job.package.version
        return find_reusable(self._recorder, self._locator, name, version, key)

    @property
    def coalesces(self) -> bool:
        """Whether jobs wait for the same work in flight in other submits: when reuse is on (a
        rerun or rebuild with reuse off never does)."""
        return self._prepared.settings.reuse

    def claim(
        self,
        job: BuildJob,
        key: str,
        document: str | None,
        *,
        canceled: threading.Event,
        on_wait: OnWait,
    ) -> ReuseMatch | None:
        """Coalescing (coalescing.py): the outputs of the job of another live submit with this
        key, once it succeeded; None when this job is claimed (recorded `queued`: it runs) or
        the run was canceled while it waited."""
        return self._coalescing.claim(job, key, document, canceled=canceled, on_wait=on_wait)


def find_reusable(
    recorder: BuildRecorder, locator: ArtifactLocator, name: str, version: str, key: str
) -> ReuseMatch | None:
    """The newest earlier succeeded job with `key` whose artifacts all still exist."""
    for candidate in recorder.reuse_candidates(name, version, key):
        match = _on_disk(recorder, locator, candidate)
        if match is not None:
            return match
    return None


def find_job_to_reuse(
    recorder: BuildRecorder, locator: ArtifactLocator, job_uuid: uuid.UUID
) -> ReuseMatch | None:
    """That earlier job, when it succeeded (or reused) and its artifacts all still exist."""
    record = recorder.job(job_uuid)
    if record is None or record.state.ok is not True:
        return None
    if record.reused_from_uuid is not None:
        # A reused job has no artifacts of its own: those of the job it reused are its outputs.
        return find_job_to_reuse(recorder, locator, record.reused_from_uuid)
    return _on_disk(recorder, locator, record)


def _on_disk(
    recorder: BuildRecorder, locator: ArtifactLocator, candidate: JobRecord
) -> ReuseMatch | None:
    records = recorder.artifacts_of(candidate.id)
    found = [(record, locator.locate(record)) for record in records]
    if any(path is None for _, path in found):
        return None
    return ReuseMatch(
        candidate.uuid,
        tuple(
            Artifact(record.id, record.path, path, locator.sha256(record) or "")
            for record, path in found
            if path is not None
        ),
    )
