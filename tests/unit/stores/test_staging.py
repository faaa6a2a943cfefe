"""Extraction of untrusted output archives into the staging store."""

from __future__ import annotations

import errno
import hashlib
import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from butido_py.errors import StoreError
from butido_py.stores.staging import extract_outputs, shown, unrecorded_files

Entry = Callable[[tarfile.TarFile], None]


def file(name: str, data: bytes) -> Entry:
    def add(archive: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))

    return add


def special(name: str, kind: bytes, linkname: str = "") -> Entry:
    def add(archive: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        archive.addfile(info)

    return add


def directory(name: str) -> Entry:
    return special(name, tarfile.DIRTYPE)


def archive(*entries: Entry, chunk: int = 7) -> list[bytes]:
    """A tar stream cut into small chunks, like docker's get_archive delivers it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for entry in entries:
            entry(tar)
    data = buffer.getvalue()
    return [data[i : i + chunk] for i in range(0, len(data), chunk)]


def test_files_and_subdirectories_land_with_digest_and_size(tmp_path: Path) -> None:
    target = tmp_path / "staging" / "submit"
    staged = extract_outputs(
        archive(
            directory("outputs"),
            file("outputs/a-1.tar.gz", b"alpha"),
            directory("outputs/sub"),
            file("outputs/sub/b.txt", b""),
        ),
        target,
        job="j1",
    )
    assert [(s.path, s.size) for s in staged] == [("a-1.tar.gz", 5), ("sub/b.txt", 0)]
    assert staged[0].sha256 == hashlib.sha256(b"alpha").hexdigest()
    assert (target / "a-1.tar.gz").read_bytes() == b"alpha"
    assert (target / "sub" / "b.txt").read_bytes() == b""
    assert sorted(p.name for p in target.iterdir()) == ["a-1.tar.gz", "sub"]


def test_empty_outputs_directory_stages_nothing(tmp_path: Path) -> None:
    assert extract_outputs(archive(directory("outputs")), tmp_path, job="j") == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ([file("/etc/passwd", b"x")], "escapes /outputs"),
        ([file("outputs/../../evil", b"x")], "escapes /outputs"),
        ([file("elsewhere/x", b"x")], "is outside /outputs"),
        ([special("outputs/l", tarfile.SYMTYPE, "/etc/passwd")], "is a link"),
        (
            [file("outputs/a", b"1"), special("outputs/h", tarfile.LNKTYPE, "outputs/a")],
            "is a link",
        ),
        ([special("outputs/dev", tarfile.CHRTYPE)], "is a special file"),
        ([special("outputs/fifo", tarfile.FIFOTYPE)], "is a special file"),
        ([file("outputs/a", b"1"), file("outputs/a", b"2")], "appears twice"),
        ([file("outputs/.incoming-x/a", b"1")], "reserved name"),
        ([file("outputs/\udcff.bin", b"1")], "entry 'outputs/\\xff.bin' has a name that is not"),
        ([file("outputs/a", b"1"), file("outputs/a/b", b"2")], "'outputs/a/b' lies under the file"),
        ([file("outputs/d/b", b"1"), file("outputs/d", b"2")], "'outputs/d' is a file, but other"),
        ([file("outputs/a", b"1"), directory("outputs/a")], "appears twice"),
        ([file("outputs/new\nline/../x", b"1")], "'outputs/new\\nline/../x' escapes"),
    ],
)
def test_hostile_archives_are_rejected_and_leave_nothing(
    tmp_path: Path, entries: list[Entry], reason: str
) -> None:
    target = tmp_path / "submit"
    good = file("outputs/good.txt", b"fine")
    with pytest.raises(StoreError) as info:
        extract_outputs(archive(good, *entries), target, job="job-7")
    assert str(info.value).startswith("job job-7: output archive rejected: ")
    assert reason in str(info.value)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "etc").exists()
    assert not (tmp_path / "evil").exists()


def test_garbage_is_not_a_tar_archive(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a valid tar archive"):
        extract_outputs([b"definitely not a tar archive" * 40], tmp_path, job="j")


def test_an_existing_output_of_another_job_is_a_conflict(tmp_path: Path) -> None:
    extract_outputs(archive(file("outputs/x.pkg", b"first")), tmp_path, job="a")
    with pytest.raises(StoreError, match=r"output 'x.pkg' already exists"):
        extract_outputs(archive(file("outputs/x.pkg", b"second")), tmp_path, job="b")
    assert (tmp_path / "x.pkg").read_bytes() == b"first"


def test_large_file_is_streamed(tmp_path: Path) -> None:
    data = bytes(range(256)) * 20_000
    (staged,) = extract_outputs(archive(file("outputs/big", data), chunk=65536), tmp_path, job="j")
    assert staged.size == len(data)
    assert staged.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        ("shared", "shared/x", "output 'shared/x' lies under the file 'shared'"),
        ("shared/x", "shared", "output 'shared' already exists in"),
        ("shared/x", "shared/x", "output 'shared/x' already exists in"),
    ],
)
def test_clashes_with_another_job_leave_only_the_first(
    tmp_path: Path, first: str, second: str, reason: str
) -> None:
    extract_outputs(archive(file(f"outputs/{first}", b"1")), tmp_path, job="a")
    with pytest.raises(StoreError, match=reason):
        extract_outputs(
            archive(file("outputs/other.pkg", b"2"), file(f"outputs/{second}", b"2")),
            tmp_path,
            job="b",
        )
    assert unrecorded_files(tmp_path, [first]) == []


def test_max_size_stops_the_extraction(tmp_path: Path) -> None:
    entries = archive(file("outputs/a", b"x" * 10), file("outputs/b", b"y" * 10))
    assert len(extract_outputs(entries, tmp_path / "ok", job="j", max_size=20)) == 2
    with pytest.raises(StoreError) as info:
        extract_outputs(entries, tmp_path / "big", job="j", max_size=19)
    assert "outputs exceed max_output_size (19 bytes) at entry 'outputs/b'" in str(info.value)
    assert list((tmp_path / "big").iterdir()) == []


def test_an_unwritable_staging_directory_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="cannot write its outputs to staging"):
        extract_outputs(archive(file("outputs/a", b"1")), tmp_path / "file" / "s", job="j")


def test_shown_escapes_what_would_break_a_line() -> None:
    assert shown("a\udcffb") == "a\\xffb"
    assert shown("x\ny\tz\\") == "x\\ny\\tz\\\\"
    assert shown("naïve.pkg") == "naïve.pkg"


def test_unrecorded_files_lists_what_no_row_describes(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a").write_text("")
    (tmp_path / "b").write_text("")
    (tmp_path / "empty").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "sub")
    assert unrecorded_files(tmp_path, ["sub/a"]) == ["b", "link"]
    assert unrecorded_files(tmp_path / "missing", []) == []


def test_a_move_that_fails_half_way_takes_the_moved_files_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while the third of three files is moved into place: the two moved ones
    and the directories made for them go, another job's outputs stay, and it says so."""
    extract_outputs(archive(file("outputs/shared/keep.txt", b"1")), tmp_path, job="first")
    real_replace = Path.replace

    def replace(self: Path, target: Path) -> Path:
        if self.name == "c.txt":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    entries = archive(
        file("outputs/shared/a.txt", b"a"),
        file("outputs/new/deep/b.txt", b"b"),
        file("outputs/c.txt", b"c"),
    )
    with pytest.raises(StoreError, match=r"job second: staging is full: no space left in "):
        extract_outputs(entries, tmp_path, job="second")
    assert unrecorded_files(tmp_path, ["shared/keep.txt"]) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared"]  # no scratch, no `new`
    assert [p.name for p in (tmp_path / "shared").iterdir()] == ["keep.txt"]
