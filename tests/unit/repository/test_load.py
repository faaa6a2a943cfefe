"""Loading real git repositories: discovery, layering, patches, pinning and the dirty check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from butido_py.errors import RepositoryError
from butido_py.repository.load import load_repository
from butido_py.repository.model import WorkTree
from tests.helpers.gitrepo import ROOT_LAYER, commit_all, git, init_repo, leaf, write_files

# butido's own example (butido-reference.md §4.1): patches relative to the defining layer.
S_REPO = {
    "pkg.toml": ROOT_LAYER,
    "s/pkg.toml": 'name = "s"\npatches = ["./foo.patch"]\n',
    "s/foo.patch": "foo\n",
    "s/19.0/pkg.toml": leaf("s", "19.0", 'patches = ["foo.patch", "s190.patch"]'),
    "s/19.0/foo.patch": "19.0 foo\n",
    "s/19.0/s190.patch": "s190\n",
    "s/19.1/pkg.toml": leaf("s", "19.1"),
    "s/19.2/pkg.toml": leaf("s", "19.2", 'patches = ["../foo.patch"]'),
    "s/19.3/pkg.toml": leaf("s", "19.3", 'patches = ["s193.patch"]'),
    "s/19.3/s193.patch": "s193\n",
}


def test_patches_resolve_relative_to_the_layer_that_defined_them(tmp_path: Path) -> None:
    repository = load_repository(init_repo(tmp_path / "r", S_REPO))
    patches = {p.version: p.patches for p in repository.packages}
    assert patches == {
        "19.0": ("s/19.0/foo.patch", "s/19.0/s190.patch"),
        "19.1": ("s/foo.patch",),
        "19.2": ("s/foo.patch",),
        "19.3": ("s/19.3/s193.patch",),
    }
    assert repository.patch_contents["s/19.0/s190.patch"] == b"s190\n"
    assert repository.patch_contents["s/foo.patch"] == b"foo\n"


def test_only_leaves_are_packages_and_every_layer_is_counted(tmp_path: Path) -> None:
    repository = load_repository(init_repo(tmp_path / "r", S_REPO))
    assert [str(p) for p in repository.packages] == ["s 19.0", "s 19.1", "s 19.2", "s 19.3"]
    assert repository.pkg_toml_count == 6
    assert repository.packages[1].pkg_toml == "s/19.1/pkg.toml"


def test_repository_records_commit_time_author_and_root(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    repository = load_repository(root)
    assert repository.commit == git(root, "rev-parse", "HEAD")
    assert repository.commit_time == int(git(root, "log", "-1", "--format=%ct"))
    assert repository.git_author == "Test User"
    assert repository.root == root.resolve()
    assert repository.dirty is False


def test_packages_are_sorted_by_name_and_version_strings(tmp_path: Path) -> None:
    files = {
        "pkg.toml": ROOT_LAYER,
        "z/pkg.toml": leaf("zz", "1"),
        "a/9/pkg.toml": leaf("a", "9"),
        "a/10/pkg.toml": leaf("a", "10"),
    }
    repository = load_repository(init_repo(tmp_path / "r", files))
    assert [p.key for p in repository.packages] == [("a", "10"), ("a", "9"), ("zz", "1")]


def test_hidden_directories_and_symlinks_are_skipped(tmp_path: Path) -> None:
    files = {
        "pkg.toml": ROOT_LAYER,
        "a/pkg.toml": leaf("a", "1"),
        ".hidden/pkg.toml": "bad =",
        "a/.old/pkg.toml": leaf("a", "0"),  # would make a/pkg.toml a layer
    }
    root = init_repo(tmp_path / "r", files)
    (root / "b").mkdir()
    (root / "b/pkg.toml").symlink_to("../a/pkg.toml")  # would be a duplicate of a 1
    commit_all(root)
    assert [str(p) for p in load_repository(root).packages] == ["a 1"]
    write_files(root, {"a/.old/pkg.toml": "bad ="})  # hidden files are not package files
    (root / "c").symlink_to("a")
    repository = load_repository(root, allow_dirty=True)
    assert ([str(p) for p in repository.packages], repository.dirty) == (["a 1"], False)


def test_a_sub_directory_finds_the_repository_root(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    repository = load_repository(root / "s" / "19.0")
    assert repository.root == root.resolve()
    assert len(repository.packages) == 4


def test_phase_from_a_file_is_read_relative_to_its_pkg_toml(tmp_path: Path) -> None:
    files = {
        "pkg.toml": ROOT_LAYER,
        "a/pkg.toml": leaf("a", "1", '[phases.build]\npath = "scripts/build.sh"\n'),
        "a/scripts/build.sh": "make\n",
    }
    package = load_repository(init_repo(tmp_path / "r", files)).packages[0]
    phase = package.phase("build")
    assert phase is not None
    assert (phase.path, phase.script) == ("a/scripts/build.sh", "make\n")


def test_the_repository_is_read_from_the_commit_not_the_work_tree(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    first = git(root, "rev-parse", "HEAD")
    write_files(root, {"t/pkg.toml": leaf("t", "1")})
    commit_all(root)
    assert len(load_repository(root).packages) == 5
    older = load_repository(root, commit="HEAD~1")
    assert (older.commit, len(older.packages)) == (first, 4)
    (root / "t").rename(root / "moved")  # the work tree no longer matches HEAD~1 either
    assert len(load_repository(root, commit=first).packages) == 4


def test_edited_package_file_is_refused_with_its_name(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    (root / "s/19.3/s193.patch").write_text("edited\n")
    with pytest.raises(RepositoryError, match=r"differ from commit .*: s/19\.3/s193\.patch") as e:
        load_repository(root)
    assert e.value.hint is not None
    assert "--allow-dirty" in e.value.hint


def test_untracked_pkg_toml_is_refused(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    write_files(root, {"new/pkg.toml": leaf("new", "1")})
    with pytest.raises(RepositoryError, match=r"new/pkg\.toml"):
        load_repository(root)


def test_unrelated_changes_do_not_make_the_tree_dirty(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", {**S_REPO, "README": "x\n", "s/unused.patch": "u\n"})
    write_files(root, {"README": "changed\n", "s/unused.patch": "changed\n", "notes.txt": "n"})
    (root / "s/19.0/pkg.toml").touch()
    assert load_repository(root).dirty is False


def test_allow_dirty_reads_the_work_tree_and_marks_it(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    write_files(root, {"s/19.3/s193.patch": "edited\n", "new/pkg.toml": leaf("new", "1")})
    repository = load_repository(root, allow_dirty=True)
    assert repository.dirty is True
    assert repository.patch_contents["s/19.3/s193.patch"] == b"edited\n"
    assert repository.find("new", "1") is not None
    assert repository.commit == git(root, "rev-parse", "HEAD")


def test_allow_dirty_on_a_clean_tree_is_not_dirty(tmp_path: Path) -> None:
    assert load_repository(init_repo(tmp_path / "r", S_REPO), allow_dirty=True).dirty is False


def test_allow_dirty_cannot_be_combined_with_another_commit(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    write_files(root, {"x/pkg.toml": leaf("x", "1")})
    commit_all(root)
    with pytest.raises(RepositoryError, match="--allow-dirty reads the work tree"):
        load_repository(root, commit="HEAD~1", allow_dirty=True)


def test_duplicate_name_and_version_names_both_files(tmp_path: Path) -> None:
    files = {"pkg.toml": ROOT_LAYER, "a/pkg.toml": leaf("a", "1"), "b/pkg.toml": leaf("a", "=1")}
    with pytest.raises(RepositoryError, match=r"a 1 is defined twice: a/pkg.toml and b/pkg.toml"):
        load_repository(init_repo(tmp_path / "r", files))


def test_patch_escaping_the_repository_is_an_error(tmp_path: Path) -> None:
    files = {"pkg.toml": ROOT_LAYER, "a/pkg.toml": leaf("a", "1", 'patches = ["../../x"]\n')}
    with pytest.raises(RepositoryError, match=r"a/pkg.toml: patches: .*'\.\.' to escape"):
        load_repository(init_repo(tmp_path / "r", files))


def test_missing_patch_is_an_error_naming_it(tmp_path: Path) -> None:
    files = {"pkg.toml": ROOT_LAYER, "a/pkg.toml": leaf("a", "1", 'patches = ["gone.patch"]\n')}
    with pytest.raises(
        RepositoryError, match=r"patch 'gone.patch' does not exist \(a/gone.patch\)"
    ):
        load_repository(init_repo(tmp_path / "r", files))


def test_uncommitted_patch_is_missing_from_the_commit(tmp_path: Path) -> None:
    files = {"pkg.toml": ROOT_LAYER, "a/pkg.toml": leaf("a", "1", 'patches = ["p.patch"]\n')}
    root = tmp_path / "r"
    write_files(root, {"a/p.patch": "p\n"})
    git_ignored = {**files, ".gitignore": "*.patch\n"}
    with pytest.raises(RepositoryError, match="does not exist"):
        load_repository(init_repo(root, git_ignored))


def test_unknown_nested_key_names_the_file_and_suggests(tmp_path: Path) -> None:
    files = {
        "pkg.toml": ROOT_LAYER,
        "a/pkg.toml": leaf("a", "1", '[dependencies]\nruntim = ["b 1"]\n'),
    }
    with pytest.raises(
        RepositoryError, match=r"a/pkg.toml: unknown key 'dependencies.runtim'"
    ) as e:
        load_repository(init_repo(tmp_path / "r", files))
    assert "did you mean 'dependencies.runtime'?" in str(e.value)


def test_unknown_key_in_a_parent_layer_names_that_layer(tmp_path: Path) -> None:
    files = {"pkg.toml": "flags = []\n" + ROOT_LAYER, "a/pkg.toml": leaf("a", "1")}
    with pytest.raises(RepositoryError, match=r"^pkg.toml: unknown key 'flags'.*a/pkg.toml"):
        load_repository(init_repo(tmp_path / "r", files))


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    files = {"pkg.toml": ROOT_LAYER, "a/pkg.toml": "name = \n"}
    with pytest.raises(RepositoryError, match=r"^a/pkg.toml: invalid TOML"):
        load_repository(init_repo(tmp_path / "r", files))


def test_outside_a_git_repository_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="not inside a git repository"):
        load_repository(tmp_path)


@pytest.mark.parametrize(
    "rev", ["nope", "HEAD~5", "@{-1}", "HEAD@{9}", "HEAD^{tree}", "HEAD:pkg.toml", "--all", ""]
)
def test_a_revision_that_names_no_commit_is_an_error(tmp_path: Path, rev: str) -> None:
    # GitPython's own rev-parse raised IndexError (a traceback) on the reflog forms.
    root = init_repo(tmp_path / "r", S_REPO)
    with pytest.raises(RepositoryError, match=f"unknown revision '{re.escape(rev)}'") as error:
        load_repository(root, commit=rev)
    assert error.value.hint is not None


def test_any_revision_git_understands_is_resolved(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    first = git(root, "rev-parse", "HEAD")
    git(root, "tag", "-a", "-m", "release", "v1")
    write_files(root, {"t/pkg.toml": leaf("t", "1")})
    commit_all(root)
    for rev in ("v1", "HEAD~1", "HEAD@{1}", first[:10], "main~1"):
        assert load_repository(root, commit=rev).commit == first


def test_a_git_failure_is_an_error_quoting_git(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    (root / ".git/index").write_bytes(b"not an index" * 4)
    with pytest.raises(RepositoryError, match=r"git failed: .*bad signature") as error:
        load_repository(root)
    assert error.value.hint == "fatal: index file corrupt"


def test_a_corrupt_commit_is_a_git_failure_not_an_unknown_revision(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    sha = git(root, "rev-parse", "HEAD")
    loose = root / ".git/objects" / sha[:2] / sha[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"garbage")
    with pytest.raises(RepositoryError, match="git failed: ") as error:
        load_repository(root)
    assert error.value.hint is not None
    assert "is corrupt" in error.value.hint


def test_a_bare_repository_is_an_error_with_a_hint(tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(init_repo(tmp_path / "r", S_REPO), "clone", "-q", "--bare", ".", str(bare))
    with pytest.raises(RepositoryError, match="no work tree") as error:
        load_repository(bare)
    assert error.value.hint is not None


def test_repository_without_commits_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q")
    with pytest.raises(RepositoryError, match="no commit yet"):
        load_repository(root)


def test_parsed_pkg_toml_files_are_cached_in_the_git_directory(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    first = load_repository(root)
    cache = root / ".git" / "butido" / "pkg-toml.cache"
    assert cache.is_file()
    assert load_repository(root).packages == first.packages
    cache.write_bytes(b"damaged")
    assert load_repository(root).packages == first.packages
    write_files(root, {"s/19.1/pkg.toml": leaf("s", "19.1.1")})
    commit_all(root)
    assert [p.version for p in load_repository(root).packages][1] == "19.1.1"


def test_staged_and_deleted_package_files_are_dirty(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    (root / "s/19.3/s193.patch").write_text("staged\n")
    git(root, "add", "s/19.3/s193.patch")
    (root / "s/19.2/pkg.toml").unlink()
    with pytest.raises(RepositoryError, match=r": s/19\.2/pkg\.toml, s/19\.3/s193\.patch$"):
        load_repository(root)
    repository = load_repository(root / "s", allow_dirty=True)
    assert [p.version for p in repository.packages] == ["19.0", "19.1", "19.3"]
    assert repository.patch_contents["s/19.3/s193.patch"] == b"staged\n"


def test_missing_or_escaping_phase_file_is_an_error(tmp_path: Path) -> None:
    files = {"pkg.toml": ROOT_LAYER, "a/pkg.toml": leaf("a", "1", 'phases.build.path = "b.sh"')}
    with pytest.raises(RepositoryError, match=r"phases\.build\.path: phase file 'b\.sh' does not"):
        load_repository(init_repo(tmp_path / "one", files))
    files["a/pkg.toml"] = leaf("a", "1", 'phases.build.path = "../../b.sh"')
    with pytest.raises(RepositoryError, match="escape the repository"):
        load_repository(init_repo(tmp_path / "two", files))


def test_pkg_toml_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"pkg.toml": ROOT_LAYER, "a/pkg.toml": b'name = "\xff"\n'}
    with pytest.raises(RepositoryError, match=r"^a/pkg\.toml: not valid UTF-8"):
        load_repository(init_repo(tmp_path / "r", files))


def test_a_lone_root_pkg_toml_is_a_package(tmp_path: Path) -> None:
    source = 'hash.type = "sha256"\nurl = "u"\nhash.hash = "ab"\n'
    files = {"pkg.toml": 'name = "solo"\nversion = "1"\n' + ROOT_LAYER.replace(source[:20], source)}
    repository = load_repository(init_repo(tmp_path / "r", files))
    assert [str(p) for p in repository.packages] == ["solo 1"]
    assert repository.packages[0].pkg_toml == "pkg.toml"


def test_a_broken_commit_fixed_in_the_work_tree_reports_the_dirty_file(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", {"pkg.toml": ROOT_LAYER, "a/pkg.toml": "name = \n"})
    (root / "a/pkg.toml").write_text(leaf("a", "1"))
    with pytest.raises(RepositoryError, match=r"differ from commit .*: a/pkg\.toml$"):
        load_repository(root)
    assert str(load_repository(root, allow_dirty=True).packages[0]) == "a 1"


def test_a_build_reads_the_commit_and_names_only_the_changes_its_packages_read(
    tmp_path: Path,
) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    write_files(root, {"s/19.3/s193.patch": "edited\n", "README": "x\n"})
    repository = load_repository(root, changes=WorkTree.RECORD)
    assert repository.dirty is False
    assert repository.patch_contents["s/19.3/s193.patch"] == b"s193\n"  # the commit's
    by_version = {p.version: p for p in repository.packages}
    assert repository.changes_read_by([by_version["19.1"], by_version["19.2"]]) == set()
    assert repository.changes_read_by(repository.packages) == {"s/19.3/s193.patch"}
    with pytest.raises(RepositoryError, match=r"1 file\(s\) the build reads .*\(HEAD\): s/19"):
        repository.refuse_changes_read_by([by_version["19.3"]], "HEAD")
    write_files(root, {"s/pkg.toml": 'name = "s"\n'})  # a layer above every version
    layered = load_repository(root, changes=WorkTree.RECORD)
    assert layered.changes_read_by([by_version["19.1"]]) == {"s/pkg.toml"}


def test_read_only_loads_read_the_work_tree_and_name_the_files(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "r", S_REPO)
    write_files(root, {"s/19.3/s193.patch": "edited\n", "README": "x\n"})
    repository = load_repository(root, changes=WorkTree.READ)
    assert repository.dirty is True
    assert repository.work_tree_changes == {"s/19.3/s193.patch"}
    assert repository.patch_contents["s/19.3/s193.patch"] == b"edited\n"
