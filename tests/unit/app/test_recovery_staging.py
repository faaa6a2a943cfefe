"""What crash recovery removes from a lost submit's staging directory (a real directory)."""

from __future__ import annotations

from pathlib import Path

from butido_py.app.recovery import clean_staging


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir())


def test_unrecorded_files_and_scratch_directories_go_recorded_artifacts_stay(
    tmp_path: Path,
) -> None:
    staging = tmp_path / "staging" / "submit"
    (staging / "sub").mkdir(parents=True)
    (staging / ".incoming-ab" / "outputs").mkdir(parents=True)
    for name in ("kept.tar.gz", "sub/kept.deb", "orphan.pkg", ".incoming-ab/outputs/x"):
        (staging / name).write_text(name)
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    (staging / "link").symlink_to(outside)
    warnings: list[str] = []

    removed = clean_staging(staging, {"kept.tar.gz", "sub/kept.deb"}, warnings.append)

    assert removed == (".incoming-ab", "link", "orphan.pkg")
    assert _tree(staging) == ["kept.tar.gz", "sub/kept.deb"]
    assert outside.read_text() == "not ours"
    assert warnings == []


def test_a_missing_or_linked_staging_directory_is_left_alone(tmp_path: Path) -> None:
    assert clean_staging(tmp_path / "absent", set(), print) == ()
    real = tmp_path / "real"
    real.mkdir()
    (real / "file").write_text("x")
    (tmp_path / "linked").symlink_to(real)
    assert clean_staging(tmp_path / "linked", set(), print) == ()
    assert (real / "file").exists()
