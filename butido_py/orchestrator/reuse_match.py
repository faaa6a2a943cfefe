"""`ReuseMatch`: the earlier job a job reuses, and its artifacts on disk."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from butido_py.orchestrator.model import Artifact


@dataclass(frozen=True, slots=True)
class ReuseMatch:
    job: uuid.UUID
    artifacts: tuple[Artifact, ...]
