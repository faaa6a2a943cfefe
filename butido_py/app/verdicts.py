"""Reproducibility verdicts (pure): the artifacts of a submit against those of its rebuild.

Artifacts are matched by (package name, version, path); the path is relative to the submit's
staging directory. Same sha256: `identical`; another (or an unknown one, as butido's rows have):
`differs`; only in the original: `missing`; only in the rebuild: `extra`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from butido_py.db.records import ArtifactRecord, JobOutputRecord
from butido_py.states import RebuildVerdict

#: The order verdicts are counted and reported in.
VERDICT_ORDER = tuple(RebuildVerdict)


@dataclass(frozen=True, slots=True)
class OutputFile:
    package: str
    version: str
    artifact: ArtifactRecord

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.package, self.version, self.artifact.path)


@dataclass(frozen=True, slots=True)
class Verdict:
    package: str
    version: str
    path: str
    verdict: RebuildVerdict
    original: ArtifactRecord | None
    rebuilt: ArtifactRecord | None


def output_files(outputs: Iterable[JobOutputRecord]) -> list[OutputFile]:
    """The artifacts a submit's jobs made or reused, each with its package."""
    return [
        OutputFile(job.package_name, job.package_version, artifact)
        for job in outputs
        for artifact in job.artifacts
    ]


def compare_outputs(original: Iterable[OutputFile], rebuilt: Iterable[OutputFile]) -> list[Verdict]:
    """One verdict per (package, version, path) of either side, sorted by that key."""
    before = {f.key: f.artifact for f in original}
    after = {f.key: f.artifact for f in rebuilt}
    return [
        Verdict(*key, _verdict(before.get(key), after.get(key)), before.get(key), after.get(key))
        for key in sorted(before.keys() | after.keys())
    ]


def _verdict(original: ArtifactRecord | None, rebuilt: ArtifactRecord | None) -> RebuildVerdict:
    if rebuilt is None:
        return RebuildVerdict.MISSING
    if original is None:
        return RebuildVerdict.EXTRA
    if original.sha256 is not None and original.sha256 == rebuilt.sha256:
        return RebuildVerdict.IDENTICAL
    return RebuildVerdict.DIFFERS


def count_verdicts(verdicts: Iterable[RebuildVerdict]) -> dict[str, int]:
    """verdict -> how many, in VERDICT_ORDER, without the zeros."""
    counts = Counter(verdicts)
    return {str(v): counts[v] for v in VERDICT_ORDER if counts[v]}


def all_identical(verdicts: Iterable[RebuildVerdict]) -> bool:
    return all(v is RebuildVerdict.IDENTICAL for v in verdicts)
