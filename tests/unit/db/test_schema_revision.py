"""The revision every database command checks for is the head of migrations/versions.

`db/schema.py` names it as a constant so that the check needs neither Alembic nor its migration
environment; this test reads the migration files (without Alembic) so the constant cannot drift.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from butido_py.db.schema import KNOWN_REVISIONS, SCHEMA_REVISION

VERSIONS = Path(__file__).resolve().parents[3] / "migrations" / "versions"


def revisions() -> dict[str, str | None]:
    """revision -> down_revision of every migration file."""
    found: dict[str, str | None] = {}
    for path in sorted(VERSIONS.glob("*.py")):
        values: dict[str, str | None] = {}
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
                node.value, ast.Constant
            ):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        value = node.value.value
                        values[target.id] = value if isinstance(value, str) else None
        found[str(values["revision"])] = values["down_revision"]
    return found


def test_known_revisions_are_the_migrations_oldest_first_ending_at_the_head() -> None:
    chain = revisions()
    ordered: list[str] = []
    current = next(rev for rev, down in chain.items() if down is None)
    while True:
        ordered.append(current)
        following = [rev for rev, down in chain.items() if down == current]
        if not following:
            break
        assert len(following) == 1, f"branching migrations after {current}: {following}"
        current = following[0]
    assert len(ordered) == len(chain)
    assert tuple(ordered) == KNOWN_REVISIONS
    assert ordered[-1] == SCHEMA_REVISION


def test_opening_a_database_does_not_load_alembic() -> None:
    code = "import sys, butido_py.db.database; print('alembic' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout == "False\n"
