"""The `/inputs` namespace of a job's container (docs/build.md#inputs).

butido lays it out flat: each source of the package as `/inputs/<file name>`, and every artifact
of every job it needs (directly or not) as `/inputs/<base name of its path>`. A flat namespace
can collide: a dependency artifact named like a source would replace the verified source, two
artifacts with one base name would silently become one file. Here a collision is an error that
names both origins; where names do not collide the layout stays butido's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from uuid import UUID

from butido_py.errors import ButidoError
from butido_py.orchestrator.model import Artifact, BuildJob
from butido_py.stores.staging import shown

INPUTS_DIR = "/inputs"


class InputCollisionError(ButidoError):
    """Two inputs of a job want one `/inputs` name: the job fails before its container starts."""


@dataclass(frozen=True, slots=True)
class InputFile:
    """One file of `/inputs`: where it goes, where it is, and where it came from (messages)."""

    container_path: str
    file: Path
    origin: str


def inputs_layout(
    job: BuildJob, artifacts: Iterable[tuple[str, Artifact]]
) -> tuple[InputFile, ...]:
    """`/inputs` of `job`: its sources, then `artifacts` (each with the label of the job that
    made it); an `InputCollisionError` when two want the same name."""
    placed: dict[str, InputFile] = {}
    for entry in job.sources:
        _place(
            job, placed, entry.path.name, entry.path, f"source {entry.source.name!r} of {job.label}"
        )
    for label, artifact in artifacts:
        origin = f"artifact '{shown(artifact.path)}' of {label}"
        _place(job, placed, PurePosixPath(artifact.path).name, artifact.file, origin)
    return tuple(placed.values())


def needed_inputs(
    job: BuildJob,
    jobs: Mapping[UUID, BuildJob],
    artifacts: Mapping[UUID, Sequence[Artifact]],
) -> tuple[InputFile, ...]:
    """The layout of `job`'s `/inputs` from the artifacts of the jobs it needs (by job uuid)."""
    return inputs_layout(
        job,
        (
            (_job_label(need, jobs.get(need)), artifact)
            for need in job.transitive
            for artifact in artifacts.get(need, ())
        ),
    )


def _job_label(uuid: UUID, job: BuildJob | None) -> str:
    return f"job {uuid}" if job is None else f"{job.label} (job {uuid})"


def _place(job: BuildJob, placed: dict[str, InputFile], name: str, file: Path, origin: str) -> None:
    target = f"{INPUTS_DIR}/{name}"
    earlier = placed.get(target)
    if earlier is not None:
        raise InputCollisionError(
            f"job {job.uuid} ({job.label}): {INPUTS_DIR}/{shown(name)} would hold both "
            f"{earlier.origin} and {origin}",
            hint="/inputs is flat: rename one of the outputs (or the source) so that their file "
            "names differ (docs/build.md#inputs)",
        )
    placed[target] = InputFile(target, file, origin)
