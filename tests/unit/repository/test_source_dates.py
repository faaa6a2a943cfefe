"""Per-package source dates from real git histories: which commit dates which package."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from butido_py.config.model import SourceDatePolicy
from butido_py.errors import RepositoryError
from butido_py.repository.load import load_repository
from butido_py.repository.model import Repository
from tests.helpers.gitrepo import ROOT_LAYER, git, leaf, write_files

FILES = {
    "pkg.toml": ROOT_LAYER,
    "a/pkg.toml": leaf("a", "1", 'patches = ["a.patch"]'),
    "a/a.patch": "patch\n",
    "b/pkg.toml": 'name = "b"\n',
    "b/1/pkg.toml": leaf("b", "1"),
    "b/2/pkg.toml": leaf("b", "2"),
    "README": "hello\n",
}
T0 = 1_700_000_000


def commit_at(root: Path, when: int, files: dict[str, str], message: str = "change") -> None:
    write_files(root, files)
    env = {**os.environ, "GIT_COMMITTER_DATE": f"@{when} +0000", "GIT_AUTHOR_DATE": f"@{when}"}
    for args in (["add", "-A"], ["commit", "-q", "--no-verify", "-m", message]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def dates(root: Path) -> dict[str, int]:
    repository = load_repository(root)
    return {str(package): repository.source_date(package) for package in repository.packages}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.invalid")
    commit_at(root, T0, FILES, "packages")
    return root


def test_a_commit_that_touches_no_package_file_changes_no_date(repo: Path) -> None:
    before = dates(repo)
    commit_at(repo, T0 + 100, {"README": "changed\n", "docs/x.md": "x\n"})
    assert dates(repo) == before == {"a 1": T0, "b 1": T0, "b 2": T0}


def test_a_package_is_dated_by_its_leaf_its_layers_and_its_patches(repo: Path) -> None:
    commit_at(repo, T0 + 100, {"b/2/pkg.toml": leaf("b", "2", "# edited")})
    assert dates(repo) == {"a 1": T0, "b 1": T0, "b 2": T0 + 100}
    commit_at(repo, T0 + 200, {"a/a.patch": "new patch\n"})
    assert dates(repo) == {"a 1": T0 + 200, "b 1": T0, "b 2": T0 + 100}
    commit_at(repo, T0 + 300, {"b/pkg.toml": 'name = "b"\n# layer\n'})
    assert dates(repo) == {"a 1": T0 + 200, "b 1": T0 + 300, "b 2": T0 + 300}
    commit_at(repo, T0 + 400, {"pkg.toml": ROOT_LAYER + "# top\n"})
    assert set(dates(repo).values()) == {T0 + 400}


def test_a_merged_change_dates_from_the_merge(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "side")
    commit_at(repo, T0 + 100, {"a/pkg.toml": leaf("a", "1", 'patches = ["a.patch"]\n# side')})
    git(repo, "checkout", "-q", "main")
    commit_at(repo, T0 + 200, {"README": "main\n"})
    env = {**os.environ, "GIT_COMMITTER_DATE": f"@{T0 + 300} +0000"}
    subprocess.run(
        ["git", "merge", "-q", "--no-ff", "-m", "merge", "side"], cwd=repo, env=env, check=True
    )
    assert dates(repo) == {"a 1": T0 + 300, "b 1": T0, "b 2": T0}


def test_cached_and_incremental_dates_equal_a_fresh_walk(repo: Path) -> None:
    for step in range(1, 6):
        version = str(1 + step % 2)
        commit_at(repo, T0 + step, {f"b/{version}/pkg.toml": leaf("b", version, f"# {step}")})
        cached = dates(repo)
        shutil.rmtree(repo / ".git" / "butido" / "file-times")
        assert dates(repo) == cached
    assert dates(repo) == {"a 1": T0, "b 1": T0 + 4, "b 2": T0 + 5}
    # Back to an older commit, not on the cached commit's line any more: a fresh walk.
    git(repo, "checkout", "-q", "HEAD~3")
    assert dates(repo) == {"a 1": T0, "b 1": T0 + 2, "b 2": T0 + 1}


def test_a_damaged_cache_is_walked_again(repo: Path) -> None:
    expected = dates(repo)
    for entry in (repo / ".git" / "butido" / "file-times").iterdir():
        entry.write_bytes(b"not a pickle")
    assert dates(repo) == expected


def test_policies(repo: Path) -> None:
    commit_at(repo, T0 + 100, {"README": "x\n"})
    repository: Repository = load_repository(repo)
    package = repository.require("a")[0]
    assert repository.source_date_epoch(package, SourceDatePolicy.PER_PACKAGE) == T0
    assert repository.source_date_epoch(package, SourceDatePolicy.COMMIT) == T0 + 100
    assert repository.source_date_epoch(package, 42) == 42


def test_the_users_log_configuration_changes_nothing(repo: Path) -> None:
    commit_at(repo, T0 + 100, {"b/1/pkg.toml": leaf("b", "1", "# edited")})
    expected = dates(repo)
    for key, value in (("log.showRoot", "false"), ("log.showSignature", "true")):
        git(repo, "config", key, value)
    shutil.rmtree(repo / ".git" / "butido" / "file-times")
    assert dates(repo) == expected == {"a 1": T0, "b 1": T0 + 100, "b 2": T0}


def test_any_byte_in_a_file_name_is_read(repo: Path) -> None:
    commit_at(repo, T0 + 100, {"odd/we\x01ird\nname": "x", "a/a.patch": "other\n"})
    assert dates(repo)["a 1"] == T0 + 100


def test_a_cached_commit_that_is_gone_is_walked_again(repo: Path) -> None:
    commit_at(repo, T0 + 100, {"README": "one\n"})
    dates(repo)  # caches HEAD
    git(repo, "commit", "-q", "--amend", "-m", "amended")
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "-q", "--prune=now")
    assert dates(repo) == {"a 1": T0, "b 1": T0, "b 2": T0}


def test_a_shallow_clone_is_refused_with_a_hint(repo: Path, tmp_path: Path) -> None:
    commit_at(repo, T0 + 100, {"README": "one\n"})
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    repository = load_repository(clone)  # tree-of and friends need no dates
    with pytest.raises(RepositoryError, match="shallow clone") as raised:
        repository.source_date(repository.packages[0])
    assert "git fetch --unshallow" in (raised.value.hint or "")
    assert repository.source_date_epoch(repository.packages[0], SourceDatePolicy.COMMIT) == (
        T0 + 100
    )
