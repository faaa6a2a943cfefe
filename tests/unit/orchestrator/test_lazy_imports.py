"""`butido` starts without loading what only `build` (or the database commands) need."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("docker", "requests", "sqlalchemy", "butido_py.orchestrator", "butido_py.app.build")

CODE = f"""
import sys
import butido_py.cli.main as main
loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)
print("build" in main.cli.commands, loaded)
"""


def test_importing_the_cli_loads_neither_docker_nor_sqlalchemy_nor_the_orchestrator() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, timeout=60
    )
    # `build` is registered (the check is not vacuous), its heavy imports are not loaded.
    assert done.stdout == "True []\n"
