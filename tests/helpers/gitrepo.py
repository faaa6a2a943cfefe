"""Real git repositories for tests: written file by file and committed with the git CLI."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

#: A root layer with butido's usual defaults, so leaves only need name, version and sources.
ROOT_LAYER = """\
version_is_semver = false
patches = []

[dependencies]
build = []
runtime = []

[sources.src]
hash.type = "sha256"

[phases]
build.script = "echo build"
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def commit_all(root: Path, message: str = "commit") -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--no-verify", "-m", message)
    return git(root, "rev-parse", "HEAD")


def init_repo(root: Path, files: Mapping[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    write_files(root, files)
    commit_all(root, "initial")
    return root


def leaf(name: str, version: str, extra: str = "") -> str:
    """A leaf pkg.toml for use below ROOT_LAYER."""
    return (
        f'name = "{name}"\nversion = "{version}"\n{extra}\n'
        f'[sources.src]\nurl = "https://example.invalid/{name}-{version}.tar.gz"\n'
        f'hash.hash = "{"ab" * 32}"\n'
    )
