"""`butido init DIR`: a new user's first commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import Result, Runner


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=60, env=env
    )
    return done.stdout.strip()


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BUTIDO_", "XDG_", "GIT_"))}
    env.update(HOME=str(home), NO_COLOR="1")
    # The `butido` console script of this environment first on PATH, as after `pip install`.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_init_then_tree_of_as_a_user_types_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run(  # noqa: S602 - the point is the command line a user types
        "butido init x && cd x && butido tree-of desktop",
        shell=True,
        cwd=tmp_path,
        env=clean_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "butido tree-of desktop" in done.stdout  # init's "Next:" hint
    tree = done.stdout.split("butido build hello 2.12.1 -I tiny", 1)[1]
    for package in ("desktop 1.0", "gtk-lite 3.24.38", "pango 1.51.0", "libc 2.38"):
        assert package in tree


def test_init_makes_a_committed_repository_with_verified_sources(
    butido: Runner, tmp_path: Path
) -> None:
    target = tmp_path / "work" / "example"
    target.mkdir(parents=True)  # an existing empty directory is fine

    done = butido("init", str(target), cwd=tmp_path)

    assert done.code == 0, done.stderr
    assert f"cd {target}" in done.stdout
    assert "26 packages, 26 of 26 sources verified" in done.stdout
    assert git(target, "status", "--porcelain") == ""
    assert git(target, "rev-list", "--count", "HEAD") == "1"
    assert (target / "config.toml").is_file()
    assert (target / "desktop" / "desktop" / "pkg.toml").is_file()
    assert not (target / "sources").exists()  # the source cache is not part of the repository
    cache = tmp_path / "home" / ".local/share/butido/sources"
    assert (cache / "hello-2.12.1" / "src.source").is_file()
    verified = butido("source", "verify", "--matching", ".", cwd=target / "libs")
    assert verified.code == 0, verified.stderr
    assert "26 of 26 sources verified" in verified.stdout


def test_the_fallback_identity_is_used_only_without_one(butido: Runner, tmp_path: Path) -> None:
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Ada Lovelace\n\temail = ada@example.org\n")
    mine = butido("init", "mine", cwd=tmp_path, env={"GIT_CONFIG_GLOBAL": str(gitconfig)})
    assert mine.code == 0, mine.stderr
    assert "butido init <init@localhost>" not in mine.stdout
    fallback = butido("init", "fallback", cwd=tmp_path, env={"GIT_CONFIG_GLOBAL": os.devnull})
    assert fallback.code == 0, fallback.stderr
    assert "as butido init <init@localhost>" in fallback.stdout

    def author(name: str) -> str:
        return git(tmp_path / name, "log", "-1", "--format=%an <%ae>|%cn <%ce>")

    assert author("mine") == "Ada Lovelace <ada@example.org>|Ada Lovelace <ada@example.org>"
    assert author("fallback") == "butido init <init@localhost>|butido init <init@localhost>"


def test_init_refuses_a_non_empty_directory(butido: Runner, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")

    done: Result = butido("init", str(target), cwd=tmp_path)

    assert done.code == 4
    assert f"error: {target} is not empty" in done.stderr
    assert "hint: choose another directory" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_init_where_no_directory_can_be_made_is_an_error(butido: Runner, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory\n")
    done = butido("init", "a-file/example", cwd=tmp_path)
    assert done.code == 4
    assert f"error: cannot create the repository in {tmp_path / 'a-file/example'}" in done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "a-file").read_text() == "not a directory\n"


def test_init_inside_another_repository_configures_the_new_one(butido: Runner, repo: Path) -> None:
    # `repo` (from conftest) has its own config.toml with other phases; the new repository's wins.
    done = butido("init", "nested", cwd=repo)
    assert done.code == 0, done.stderr
    verified = butido("source", "verify", "hello", cwd=repo / "nested")
    assert verified.code == 0, verified.stderr
    assert "1 of 1 sources verified" in verified.stdout


def test_init_help_describes_the_result(butido: Runner) -> None:
    done = butido("init", "--help")
    assert done.code == 0
    assert "must be new or empty" in done.stdout
    assert "git init" in done.stdout


def test_a_failed_init_leaves_nothing_behind(butido: Runner, tmp_path: Path) -> None:
    user_config = tmp_path / "home" / ".config" / "butido" / "config.toml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text("build_error_line = 3\n")  # a typo: init cannot read the config
    empty = tmp_path / "empty"
    empty.mkdir()

    new = butido("init", "new/sub/repo", cwd=tmp_path)
    existing = butido("init", "empty", cwd=tmp_path)

    assert new.code == 3
    assert "build_error_line" in new.stderr
    assert not (tmp_path / "new").exists()  # nor the directories made on the way
    assert existing.code == 3
    assert list(empty.iterdir()) == []
