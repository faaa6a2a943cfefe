"""`butido init`: a new package repository made from the example template, with one git commit.

The template is `repo-template/` of a checkout (editable installs) or `butido_py/repo_template`
inside an installed wheel. Its `sources/` directory is a pre-filled source cache, not part of the
package repository: `copy_template` leaves it out.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from butido_py.errors import RepositoryError

#: The template's pre-filled source cache (`<name>-<version>/<source>.source`).
TEMPLATE_SOURCES = "sources"
#: Used for the first commit when git has no user.name / user.email configured.
FALLBACK_NAME = "butido init"
FALLBACK_EMAIL = "init@localhost"
_NOT_COPIED = (TEMPLATE_SOURCES, "__pycache__", ".git")


def find_template() -> Path:
    """The example repository shipped with butido_py."""
    package_dir = Path(__file__).resolve().parents[1]
    for candidate in (package_dir / "repo_template", package_dir.parent / "repo-template"):
        if (candidate / "pkg.toml").is_file():
            return candidate
    raise RepositoryError(
        f"the example repository is not installed (looked in {package_dir / 'repo_template'} "
        f"and {package_dir.parent / 'repo-template'})",
        hint="reinstall butido_py; the wheel ships it as butido_py/repo_template",
    )


def check_target(target: Path) -> None:
    """`target` must not exist, or be an empty directory."""
    if not target.exists():
        return
    if not target.is_dir():
        raise RepositoryError(
            f"{target} exists and is not a directory", hint="give a new directory name"
        )
    if any(target.iterdir()):
        raise RepositoryError(
            f"{target} is not empty; butido init only fills a new or empty directory",
            hint=f"choose another directory, e.g. `butido init {target.name}-example`",
        )


@contextmanager
def fresh_directory(target: Path) -> Iterator[Path]:
    """Checks `target` (see `check_target`); if the block fails, removes what it put there."""
    check_target(target)
    # The outermost directory this call creates (`init a/b/c` may create a and b as well).
    created = next((p for p in reversed((target, *target.parents)) if not p.exists()), None)
    try:
        yield target
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        else:
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise


def copy_template(template: Path, target: Path) -> list[str]:
    """Copy the template without its source cache; the copied files, repository-relative."""
    check_target(target)
    try:
        shutil.copytree(
            template, target, ignore=shutil.ignore_patterns(*_NOT_COPIED), dirs_exist_ok=True
        )
    except OSError as exc:  # shutil.Error (a failed file) is an OSError too
        raise RepositoryError(
            f"cannot create the repository in {target}: {exc.strerror or exc}",
            hint="choose a directory you can write to",
        ) from exc
    return sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())


@dataclass(frozen=True, slots=True)
class InitCommit:
    sha: str
    #: True when git had no identity and FALLBACK_NAME <FALLBACK_EMAIL> was used.
    fallback_identity: bool


def init_and_commit(root: Path, message: str) -> InitCommit:
    """`git init` in `root` and commit every file in it."""
    try:
        repo = git.Repo.init(root)
        runner: Any = repo.git
        runner.add("--all")
        env = _missing_identity(repo)
        runner.commit("--quiet", "--no-verify", "-m", message, env=env)
        sha = str(repo.head.commit.hexsha)
    except git.GitCommandError as exc:
        raise RepositoryError(
            f"{root}: creating the first git commit failed: {exc.stderr.strip() or exc}",
            hint="check that git works in that directory (`git init`, `git commit`)",
        ) from exc
    return InitCommit(sha=sha, fallback_identity=bool(env))


def _missing_identity(repo: git.Repo) -> dict[str, str]:
    """Environment variables that supply an author/committer when git config has none."""
    name, email = _config_value(repo, "user.name"), _config_value(repo, "user.email")
    wanted: dict[str, str] = {}
    if not name:
        wanted.update(GIT_AUTHOR_NAME=FALLBACK_NAME, GIT_COMMITTER_NAME=FALLBACK_NAME)
    if not email:
        wanted.update(GIT_AUTHOR_EMAIL=FALLBACK_EMAIL, GIT_COMMITTER_EMAIL=FALLBACK_EMAIL)
    # Variables the user set win over both (git reads them before its configuration).
    return {key: value for key, value in wanted.items() if not os.environ.get(key)}


def _config_value(repo: git.Repo, key: str) -> str:
    """What `git config` says (all scopes, GIT_CONFIG_* variables honoured); "" when unset."""
    runner: Any = repo.git
    try:
        return str(runner.config("--get", key)).strip()
    except git.GitCommandError:
        return ""
