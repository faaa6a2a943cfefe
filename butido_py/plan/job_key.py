"""The job key (DESIGN.md §3 "Reuse by content"): what makes two jobs the same job.

sha256 over a canonical JSON document of everything that can change a job's outputs: package name
and version, the rendered script, the image digest, the final environment, the source hashes, the
patch contents and the sha256 of every input artifact. Orders that carry no meaning (environment,
artifacts) are normalised, so equal inputs always give equal keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from butido_py.package.model import Package

#: Bump when the document below changes, so that old keys can never match new ones.
JOB_KEY_VERSION = 1


@dataclass(frozen=True, slots=True)
class JobKeyInputs:
    name: str
    version: str
    script: str
    image_digest: str
    environment: Sequence[tuple[str, str]]
    #: (source name, hash type, hash value)
    sources: Sequence[tuple[str, str, str]]
    #: (repository-relative patch path, sha256 of its content)
    patches: Sequence[tuple[str, str]]
    #: sha256 of every artifact copied into the container
    input_artifacts: Sequence[str]


def job_key(inputs: JobKeyInputs) -> str:
    return key_of_document(key_document(inputs))


def key_of_document(document: Mapping[str, object]) -> str:
    """sha256 of the canonical JSON of a key document."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def key_document(inputs: JobKeyInputs) -> dict[str, object]:
    """The components of the key, normalised: what is hashed, and what an explanation compares
    (recorded with each job)."""
    return {
        "v": JOB_KEY_VERSION,
        "name": inputs.name,
        "version": inputs.version,
        "script": hashlib.sha256(inputs.script.encode("utf-8")).hexdigest(),
        "image": inputs.image_digest,
        "env": sorted([name, value] for name, value in inputs.environment),
        "sources": sorted(list(source) for source in inputs.sources),
        # Patches are applied in their declared order by scripts: keep it.
        "patches": [list(patch) for patch in inputs.patches],
        "inputs": sorted(set(inputs.input_artifacts)),
    }


def job_key_of(
    package: Package,
    *,
    script: str,
    image_digest: str,
    env: Sequence[tuple[str, str]],
    patch_contents: Mapping[str, bytes],
    input_sha256s: Iterable[str],
) -> str:
    """The job key of `package` on an image: the one function `butido build` (for reuse) and
    `butido find-artifact` (to predict that reuse) compute keys with.

    `script` is the rendered script, `env` the job's final environment, `input_sha256s` the
    sha256 of every artifact of the jobs it needs; sources and patches are the package's own."""
    return key_of_document(
        key_document_of(
            package,
            script=script,
            image_digest=image_digest,
            env=env,
            patch_contents=patch_contents,
            input_sha256s=input_sha256s,
        )
    )


def key_document_of(
    package: Package,
    *,
    script: str,
    image_digest: str,
    env: Sequence[tuple[str, str]],
    patch_contents: Mapping[str, bytes],
    input_sha256s: Iterable[str],
) -> dict[str, object]:
    """The key document behind `job_key_of` (same arguments)."""
    return key_document(
        JobKeyInputs(
            name=package.name,
            version=package.version,
            script=script,
            image_digest=image_digest,
            environment=tuple(env),
            sources=[(s.name, str(s.hash_type), s.hash_value) for s in package.sources],
            patches=[
                (path, hashlib.sha256(patch_contents[path]).hexdigest()) for path in package.patches
            ],
            input_artifacts=list(input_sha256s),
        )
    )
