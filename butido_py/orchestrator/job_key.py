"""The job key (DESIGN.md §3 "Reuse by content"): what makes two jobs the same job.

sha256 over a canonical JSON document of everything that can change a job's outputs: package name
and version, the rendered script, the image digest, the final environment, the source hashes, the
patch contents and the sha256 of every input artifact. Orders that carry no meaning (environment,
artifacts) are normalised, so equal inputs always give equal keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

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
    document = {
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
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
