"""Golden outputs under tests/e2e/golden/: one file per expected output, compared byte for byte.

After an intended change of an output, regenerate the files with
`BUTIDO_UPDATE_GOLDEN=1 .venv/bin/pytest tests/e2e/<test file>` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
#: Read once, at import: the tests' fixtures clear every BUTIDO_* variable before they run.
UPDATE = os.environ.get("BUTIDO_UPDATE_GOLDEN") == "1"


def assert_golden(name: str, actual: str) -> None:
    """`actual` is the content of golden/`name` (rewritten instead with BUTIDO_UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    assert actual == path.read_text()
