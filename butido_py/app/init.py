"""`butido init DIR`: a new package repository from the example template, ready to use: the
example's files, a config.toml, its sources in the source cache, `git init` and one commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from butido_py.config import load_config
from butido_py.repository.git_init import (
    TEMPLATE_SOURCES,
    InitCommit,
    copy_template,
    find_template,
    fresh_directory,
    init_and_commit,
)
from butido_py.repository.load import load_repository
from butido_py.sources.cache import SourceCache, import_cache_tree, verify_sources

#: The package at the top of the example tree.
TOP_PACKAGE = "desktop"
COMMIT_MESSAGE = "Example package repository (butido init)"


@dataclass(frozen=True, slots=True)
class InitRequest:
    directory: Path
    #: `--config FILE` of the command line (the new repository's config.toml otherwise).
    config_file: Path | None
    environ: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class InitResult:
    target: Path
    template: Path
    files: int
    commit: InitCommit
    source_cache: Path
    sources_added: int
    sources_kept: int
    packages: int
    sources: int
    #: (source, why it does not verify) for each source that does not.
    unverified: tuple[tuple[str, str], ...]


def init_repository(request: InitRequest) -> InitResult:
    """Fill the (new or empty) directory; if a step fails, what was put there is removed."""
    target = request.directory.resolve()
    template = find_template()
    with fresh_directory(target):
        files = copy_template(template, target)
        commit = init_and_commit(target, COMMIT_MESSAGE)
        # Read after `git init`, so that target (not an enclosing repository) is the root.
        config = load_config(
            cwd=target, environ=request.environ, config_file=request.config_file
        ).config
        cache = config.source_cache
        imported = import_cache_tree(template / TEMPLATE_SOURCES, cache)
    repository = load_repository(target)
    entries = SourceCache(cache).entries(repository.packages)
    bad = tuple((r.entry.label, r.message) for r in verify_sources(entries) if not r.ok)
    return InitResult(
        target=target,
        template=template,
        files=len(files),
        commit=commit,
        source_cache=cache,
        sources_added=len(imported.copied),
        sources_kept=len(imported.kept),
        packages=len(repository.packages),
        sources=len(entries),
        unverified=bad,
    )
