"""Pre-flight of the directories a build writes (app/preflight.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from butido_py.app import preflight
from butido_py.app.preflight import WritableDir, check_writable, human_bytes
from butido_py.errors import ExitCode, StoreError
from butido_py.orchestrator.model import BuildSettings, PreparedBuild


def test_a_missing_directory_is_created_and_its_free_space_reported(tmp_path: Path) -> None:
    warnings: list[str] = []
    target = tmp_path / "staging" / "deep"
    free = check_writable([WritableDir(target, "staging directory", "`staging`")], warnings.append)
    assert target.is_dir()
    assert list(target.iterdir()) == []  # the probe file is gone
    assert free[target] > 0


def test_a_directory_that_cannot_be_made_is_exit_7_naming_it(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "staging"
    with pytest.raises(StoreError) as info:
        check_writable([WritableDir(target, "staging directory", "`staging`")], print)
    assert info.value.exit_code is ExitCode.STORE
    assert str(info.value).startswith(f"staging directory {target} is not writable: ")
    assert "\n" not in str(info.value)
    assert info.value.hint is not None
    assert "nothing was recorded" in info.value.hint


def test_low_free_space_is_warned_about(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight, "LOW_SPACE_BYTES", 1 << 60)
    warnings: list[str] = []
    check_writable(
        [WritableDir(tmp_path, "log directory (--write-log)", "`log_dir`")], warnings.append
    )
    assert len(warnings) == 1
    assert warnings[0].startswith(f"log directory (--write-log) {tmp_path} has only ")


def test_human_bytes() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(3 << 30) == "3.0 GiB"


def test_a_build_checks_staging_and_with_write_log_the_log_directory(tmp_path: Path) -> None:
    submit = tmp_path / "staging" / "0b1c"
    settings = BuildSettings(write_log=True, log_dir=tmp_path / "logs")
    prepared = cast(PreparedBuild, SimpleNamespace(staging_dir=submit, settings=settings))
    assert [(d.path, d.role) for d in preflight.build_dirs(prepared)] == [
        (tmp_path / "staging", "staging directory"),  # the submit's own is made later
        (tmp_path / "logs", "log directory (--write-log)"),
    ]
    submit.mkdir(parents=True)
    quiet = cast(PreparedBuild, SimpleNamespace(staging_dir=submit, settings=BuildSettings()))
    assert [d.path for d in preflight.build_dirs(quiet)] == [submit]
