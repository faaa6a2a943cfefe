"""`butido rebuild SUBMIT`: run every job of a submit again, from its commit, image and env with
reuse off, then compare each artifact with the original's and record the verdicts."""

from __future__ import annotations

import shutil
import threading
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from butido_py import process
from butido_py.app.build import run_prepared
from butido_py.app.group_build import (
    GroupResult,
    check_one_staging_dir,
    load_group,
    repeat_group,
    run_group,
)
from butido_py.app.repeat import OriginalSubmit, RepeatOptions, load_original, prepare_repeat
from butido_py.app.services import Services
from butido_py.app.verdicts import Verdict, all_identical, compare_outputs, output_files
from butido_py.db import artifacts as db_artifacts
from butido_py.db.database import Database
from butido_py.db.records import RebuildResultRecord
from butido_py.errors import EndpointError
from butido_py.orchestrator.model import BuildListener, BuildResult, PreparedBuild
from butido_py.states import RebuildVerdict, SubmitKind, SubmitState
from butido_py.stores.artifact_locator import ArtifactLocator

#: diffoscope gets this long per differing pair (it can be slow on large archives).
DIFFOSCOPE_TIMEOUT = 600.0
#: Why an artifact butido (Rust) recorded cannot be compared.
UNHASHED_GONE = (
    "(no comparison: butido (Rust) recorded no sha256 for the original artifact, and it is no "
    "longer in its staging directory)"
)
#: At most this much of diffoscope's text is stored per pair.
SUMMARY_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class RebuildRequest:
    submit: uuid.UUID
    options: RepeatOptions = field(default_factory=RepeatOptions)
    allow_image_change: bool = False


@dataclass(frozen=True, slots=True)
class RebuildVerdicts:
    results: tuple[RebuildResultRecord, ...]
    #: Whether diffoscope was found (then every `differs` has a summary).
    diffoscope: bool

    @property
    def identical(self) -> bool:
        return all_identical(r.verdict for r in self.results)


@dataclass(frozen=True, slots=True)
class RebuildResult:
    original: uuid.UUID
    build: BuildResult
    #: None when the rebuild was canceled (nothing is compared).
    verdicts: RebuildVerdicts | None

    @property
    def reproduced(self) -> bool:
        """The rebuild succeeded and every artifact is identical to the original's."""
        return (
            self.build.state == SubmitState.SUCCEEDED
            and self.verdicts is not None
            and self.verdicts.identical
        )


def rebuild(
    request: RebuildRequest, services: Services, listener: BuildListener, cancel: threading.Event
) -> RebuildResult:
    """Run every job of the original again, then compare and record the verdicts (not after a
    cancel: a canceled rebuild proves nothing)."""
    database = services.database()
    original = load_original(database, request.submit, command="rebuild")
    prepared = prepare_rebuild(
        original,
        options=request.options,
        services=services,
        allow_image_change=request.allow_image_change,
    )
    result = run_prepared(prepared, services, listener, cancel)
    if result.state == SubmitState.CANCELED:
        return RebuildResult(request.submit, result, None)
    return RebuildResult(request.submit, result, record_verdicts(database, original, prepared))


def prepare_rebuild(
    original: OriginalSubmit,
    *,
    options: RepeatOptions,
    services: Services,
    allow_image_change: bool,
) -> PreparedBuild:
    prepared = prepare_repeat(original, kind=SubmitKind.REBUILD, options=options, services=services)
    mismatch = image_mismatch(original, prepared)
    if mismatch is not None:
        if not allow_image_change:
            raise EndpointError(
                mismatch,
                hint="rebuild on an endpoint that has the original image, or pass "
                "--allow-image-change (the verdicts then compare builds in different images)",
            )
        services.warn(f"{mismatch} (--allow-image-change)")
    return prepared


def image_mismatch(original: OriginalSubmit, prepared: PreparedBuild) -> str | None:
    """Why an endpoint's image is not the one the original's jobs were recorded with, if so."""
    recorded = sorted({j.image_digest for j in original.jobs if j.image_digest})
    if not recorded:  # butido's rows have no digest: nothing to compare
        return None
    for endpoint in prepared.endpoints:
        digest = prepared.image_ids[endpoint.name]
        if digest not in recorded:
            return (
                f"endpoint {endpoint.name!r}: image {prepared.image} is {digest}, but submit "
                f"{original.submit.uuid} was built with {' and '.join(recorded)}"
            )
    return None


def record_verdicts(
    database: Database, original: OriginalSubmit, prepared: PreparedBuild
) -> RebuildVerdicts:
    """Compare the rebuild's artifacts with the original's; record and return the verdicts.

    The original's artifacts that butido (Rust) recorded (no sha256) are hashed from their files
    in the original's staging directory, when they are still there."""
    settings = prepared.settings
    locator = ArtifactLocator(settings.staging_roots, settings.release_dirs)
    originals = [
        replace(f, artifact=replace(f.artifact, sha256=locator.sha256(f.artifact)))
        if f.artifact.sha256 is None
        else f
        for f in output_files(db_artifacts.submit_outputs(database, original.submit.uuid))
    ]
    rebuilt = output_files(db_artifacts.submit_outputs(database, prepared.submit_uuid))
    if original.from_butido_rust:
        # butido kept no record of the jobs it reused: their packages have nothing to compare
        # with (the warning of check_same_jobs named them), which is no sign of irreproducibility.
        recorded = set(original.job_by_package())
        rebuilt = [f for f in rebuilt if (f.package, f.version) in recorded]
    verdicts = compare_outputs(originals, rebuilt)
    diffoscope = shutil.which("diffoscope")
    results = []
    for verdict in verdicts:
        summary = None
        if (
            verdict.verdict is RebuildVerdict.DIFFERS
            and verdict.original is not None
            and verdict.original.sha256 is None
        ):
            summary = UNHASHED_GONE
        elif diffoscope is not None and verdict.verdict is RebuildVerdict.DIFFERS:
            summary = _summary(diffoscope, locator, prepared, verdict)
        results.append(
            db_artifacts.record_rebuild_result(
                database,
                prepared.submit_uuid,
                package=(verdict.package, verdict.version),
                path=verdict.path,
                original_artifact_id=verdict.original.id if verdict.original else None,
                rebuilt_artifact_id=verdict.rebuilt.id if verdict.rebuilt else None,
                verdict=verdict.verdict,
                diff_summary=summary,
            )
        )
    return RebuildVerdicts(tuple(results), diffoscope=diffoscope is not None)


def _summary(
    diffoscope: str, locator: ArtifactLocator, prepared: PreparedBuild, verdict: Verdict
) -> str:
    original = locator.locate(verdict.original) if verdict.original else None
    rebuilt = prepared.staging_dir / verdict.path
    if original is None:
        return "(no diff: the original artifact is no longer on disk with its recorded sha256)"
    if not rebuilt.is_file():
        return "(no diff: the rebuilt artifact is not in the staging directory)"
    return diff_summary(diffoscope, original, rebuilt)


def diff_summary(diffoscope: str, original: Path, rebuilt: Path) -> str:
    """diffoscope's text report of two files, truncated to SUMMARY_LIMIT characters."""
    try:
        done = process.run(
            [diffoscope, "--no-progress", "--text", "-", original, rebuilt],
            timeout=DIFFOSCOPE_TIMEOUT,
        )
    except process.ProcessError as error:
        return f"(diffoscope failed: {error})"
    text = done.stdout.decode("utf-8", errors="replace")
    if done.returncode not in (0, 1):  # 1: the files differ; anything else: an error
        stderr = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        last = stderr[-1] if stderr else ""
        text = f"(diffoscope exited with {done.returncode}: {last})\n{text}"
    if len(text) > SUMMARY_LIMIT:
        text = text[:SUMMARY_LIMIT] + f"\n… (truncated to {SUMMARY_LIMIT} characters)\n"
    return text


# --- groups ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupRebuildResult:
    original: uuid.UUID
    group: GroupResult
    #: The verdicts of each rebuilt submit (by its uuid); None when it was canceled.
    verdicts: dict[uuid.UUID, RebuildVerdicts | None]

    def reproduced(self, build: BuildResult) -> bool:
        verdicts = self.verdicts.get(build.submit_uuid)
        return build.state == SubmitState.SUCCEEDED and verdicts is not None and verdicts.identical


def rebuild_group(
    request: RebuildRequest, services: Services, listener: BuildListener, cancel: threading.Event
) -> GroupRebuildResult:
    """Rebuild each image's submit of the group `request.submit` at the same time (a new group
    of kind `rebuild`), then compare and record each image's verdicts."""
    database = services.database()
    group = load_group(services, request.submit, command="rebuild")
    originals = [load_original(database, s.uuid, command="rebuild") for s in group.submits]
    check_one_staging_dir(request.options, len(originals))
    prepared = [
        prepare_rebuild(
            original,
            options=request.options,
            services=services,
            allow_image_change=request.allow_image_change,
        )
        for original in originals
    ]
    result = run_group(
        repeat_group(group, prepared, SubmitKind.REBUILD), services, listener, cancel
    )
    built = {b.submit_uuid: b for b in result.results}
    verdicts: dict[uuid.UUID, RebuildVerdicts | None] = {}
    for original, plan in zip(originals, prepared, strict=True):
        build = built.get(plan.submit_uuid)
        if build is not None:
            canceled = build.state == SubmitState.CANCELED
            verdicts[plan.submit_uuid] = (
                None if canceled else record_verdicts(database, original, plan)
            )
    return GroupRebuildResult(group.uuid, result, verdicts)
