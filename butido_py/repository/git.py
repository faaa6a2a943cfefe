"""The git adapter (GitPython): the only module that talks to git.

Reads a commit's tree and blobs without touching the work tree: one `git ls-tree -r` lists every
file of the commit, one `git cat-file --batch` reads all wanted blobs. Also answers which files of
the work tree differ from HEAD, and the repository's `user.name`.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from butido_py.errors import RepositoryError

_REGULAR_FILE_MODES = (b"100644", b"100755")


class GitRepository:
    """A non-bare git repository, found from `start` upwards."""

    def __init__(self, start: Path) -> None:
        try:
            self._repo = git.Repo(start, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise RepositoryError(
                f"{start}: not inside a git repository",
                hint="run butido inside the package repository (`butido init DIR` creates one)",
            ) from exc
        if self._repo.bare or self._repo.working_tree_dir is None:
            self._repo.close()
            raise RepositoryError(
                f"{start}: the git repository has no work tree (bare)",
                hint="run butido in a clone that has a work tree (git clone REPO DIR)",
            )
        self.root = Path(self._repo.working_tree_dir).resolve()
        #: The repository's git directory (`.git`, or the common one of a linked work tree).
        self.git_dir = Path(self._repo.common_dir).resolve()
        self._git: Any = self._repo.git

    def __enter__(self) -> GitRepository:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Ends the git processes GitPython keeps running (cat-file) for this repository."""
        self._repo.close()

    def resolve(self, rev: str) -> str:
        """The full hex sha of the commit `rev` names (anything `git rev-parse` understands)."""
        try:
            # The real git, not GitPython's own rev-parse, which raises IndexError on `@{-1}` or
            # `HEAD@{5}`; `--end-of-options` keeps a rev starting with `-` from being an option.
            output: str = self._git.rev_parse(
                "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"
            )
        except git.GitCommandError as exc:
            if any(line.startswith("fatal:") for line in _stderr_lines(exc)):
                # git failed (an unusable repository), not just a rev that names no commit
                raise _git_failure(self.root, exc) from exc
            if not self._repo.head.is_valid():
                raise RepositoryError(
                    f"{self.root}: the repository has no commit yet",
                    hint="commit the package files first (git add -A && git commit)",
                ) from exc
            raise RepositoryError(
                f"{self.root}: unknown revision '{rev}' (not a commit of this repository)",
                hint="give a commit hash, tag or branch (see `git log`)",
            ) from exc
        return output.strip()

    def head(self) -> str | None:
        """HEAD's full sha, or None in a repository without commits."""
        if not self._repo.head.is_valid():
            return None
        return str(self._repo.head.commit.hexsha)

    def commit_time(self, sha: str) -> int:
        return int(self._repo.commit(sha).committed_date)

    def first_parent_changes(self, sha: str, stop: str | None = None) -> list[CommitChanges]:
        """The commits of `sha`'s first-parent line, newest first, each with the files it changed
        (a merge: against its first parent; the root commit: every file), back to the root or
        down to `stop` (excluded). Independent of the user's log configuration."""
        output: bytes = self._run(
            "log",
            "-z",
            "--first-parent",
            "--diff-merges=first-parent",
            "--root",
            "--no-renames",
            "--no-show-signature",
            "--no-ext-diff",
            "--name-only",
            "--format=%x01%H %P%x02%ct",
            sha if stop is None else f"{stop}..{sha}",
            "--",
            stdout_as_string=False,
            strip_newline_in_stdout=False,
        )
        try:
            return _parse_changes(output)
        except ValueError as exc:
            raise RepositoryError(
                f"{self.root}: cannot read the history of {sha[:12]} ({exc})",
                hint="check that `git log` works here; set containers.source_date_epoch = "
                '"commit" to build without the history',
            ) from exc

    def is_shallow(self) -> bool:
        output: str = self._run("rev_parse", "--is-shallow-repository")
        return output.strip() == "true"

    def user_name(self) -> str | None:
        with self._repo.config_reader() as reader:
            value = reader.get_value("user", "name", default="")
        return str(value) or None

    def tree_files(self, sha: str) -> dict[str, str]:
        """Every regular file of the commit: repository-relative path → blob sha."""
        output: bytes = self._run(
            "ls_tree",
            "-r",
            "-z",
            "--full-tree",
            sha,
            stdout_as_string=False,
            strip_newline_in_stdout=False,
        )
        files: dict[str, str] = {}
        for entry in output.split(b"\0"):
            if not entry:
                continue
            meta, _, path = entry.partition(b"\t")
            mode, kind, blob = meta.split(b" ")
            if kind == b"blob" and mode in _REGULAR_FILE_MODES:
                files[path.decode("utf-8", "surrogateescape")] = blob.decode("ascii")
        return files

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The content of each blob, read through one `git cat-file --batch` process."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        with tempfile.TemporaryFile() as request:
            request.write("".join(f"{sha}\n" for sha in wanted).encode("ascii"))
            request.seek(0)
            output: bytes = self._run(
                "cat_file",
                "--batch",
                istream=request,
                stdout_as_string=False,
                strip_newline_in_stdout=False,
            )
        return _parse_batch(output, len(wanted))

    def work_tree_files(self) -> list[str]:
        """Tracked and untracked (not ignored) files that exist in the work tree."""
        output: str = self._run("ls_files", "--cached", "--others", "--exclude-standard", "-z")
        return [
            path
            for path in dict.fromkeys(output.split("\0"))
            if path and (self.root / path).is_file() and not (self.root / path).is_symlink()
        ]

    def changed_files(self, sha: str) -> set[str]:
        """Files whose work-tree state differs from commit `sha` (edited, staged, deleted,
        untracked but not ignored)."""
        diff: str = self._run("diff", "--name-only", "--no-renames", "-z", sha, "--")
        untracked: str = self._run("ls_files", "--others", "--exclude-standard", "-z")
        return {path for path in (*diff.split("\0"), *untracked.split("\0")) if path}

    def _run(self, command: str, *args: object, **kwargs: object) -> Any:
        """`git COMMAND ARGS`; a failure becomes a RepositoryError quoting git's message."""
        try:
            return getattr(self._git, command)(*args, **kwargs)
        except git.GitCommandError as exc:
            raise _git_failure(self.root, exc) from exc

    def read_work_tree_files(self, paths: Iterable[str]) -> Mapping[str, bytes]:
        return {path: (self.root / path).read_bytes() for path in paths}


@dataclass(frozen=True, slots=True)
class CommitChanges:
    sha: str
    first_parent: str | None
    committer_time: int
    files: tuple[str, ...]


_HEADER = re.compile(rb"\n?\x01([0-9a-f]{40,64}(?: [0-9a-f]{40,64})*) ?\x02([0-9]+)")


def _parse_changes(output: bytes) -> list[CommitChanges]:
    """`git log -z --name-only` with the header format of `first_parent_changes`: NUL-separated
    tokens, each a commit header or a file name (which may hold any byte but NUL)."""
    commits: list[CommitChanges] = []
    header: re.Match[bytes] | None = None
    files: list[str] = []
    for token in output.split(b"\0"):
        match = _HEADER.fullmatch(token)
        if match is not None:
            if header is not None:
                commits.append(_commit(header, files))
            header, files = match, []
        elif token.strip(b"\n"):
            if header is None:
                raise ValueError(f"unexpected output before the first commit: {token[:40]!r}")
            files.append(token.removeprefix(b"\n").decode("utf-8", "surrogateescape"))
    if header is not None:
        commits.append(_commit(header, files))
    return commits


def _commit(header: re.Match[bytes], files: list[str]) -> CommitChanges:
    sha, *parents = header.group(1).decode("ascii").split()
    return CommitChanges(sha, parents[0] if parents else None, int(header.group(2)), tuple(files))


def _stderr_lines(exc: git.GitCommandError) -> list[str]:
    # GitPython formats stderr as "\n  stderr: '<text>'".
    text = str(exc.stderr or "").strip().removeprefix("stderr:").strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1]
    return [line.strip() for line in text.splitlines() if line.strip()]


def _git_failure(root: Path, exc: git.GitCommandError) -> RepositoryError:
    lines = _stderr_lines(exc) or [f"exit code {exc.status}"]
    return RepositoryError(
        f"{root}: git failed: {lines[0]}",
        hint=" ".join(lines[1:]) or "check that `git status` works in this directory",
    )


def _parse_batch(output: bytes, count: int) -> dict[str, bytes]:
    blobs: dict[str, bytes] = {}
    position = 0
    for _ in range(count):
        header_end = output.index(b"\n", position)
        header = output[position:header_end].split(b" ")
        if len(header) != 3:
            raise RepositoryError(f"git cat-file: object {header[0].decode()} is missing")
        size = int(header[2])
        start = header_end + 1
        blobs[header[0].decode("ascii")] = output[start : start + size]
        position = start + size + 1
    return blobs
