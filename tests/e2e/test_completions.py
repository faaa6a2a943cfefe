"""`butido generate-completions`: scripts that really complete in the shell."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Runner


def test_needs_no_repository_or_configuration(butido: Runner, tmp_path: Path) -> None:
    for shell, marker in (("bash", "complete -o nosort -F"), ("zsh", "#compdef butido"),
                          ("fish", "complete --no-files --command butido")):  # fmt: skip
        result = butido("generate-completions", shell, cwd=tmp_path)
        assert result.code == 0, result.stderr
        assert marker in result.stdout
        assert result.stderr == f"Generating shell completions for {shell}...\n"


def test_bash_completion_completes_commands(butido: Runner, tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.fail("bash is needed for this test")
    script = tmp_path / "butido.bash"
    script.write_text(butido("generate-completions", "bash", cwd=tmp_path).stdout)
    wrapper = tmp_path / "bin" / "butido"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m butido_py "$@"\n')
    wrapper.chmod(0o755)

    def complete(*words: str) -> list[str]:
        probe = (
            f"source {script}; COMP_WORDS=(butido {' '.join(words)}); "
            f"COMP_CWORD={len(words)}; _butido_completion butido; "
            'printf "%s\\n" "${COMPREPLY[@]}"'
        )
        env = {
            **os.environ,
            "PATH": f"{wrapper.parent}:{os.environ['PATH']}",
            "HOME": str(tmp_path),
        }
        done = subprocess.run([bash, "-c", probe], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=60, check=True)  # fmt: skip
        return done.stdout.split()

    assert complete("con") == ["config"]
    assert complete("config", "") == ["check", "show"]
    assert "generate-completions" in complete("gen")
    assert sorted(complete("db", "j")) == ["job", "jobs"]
