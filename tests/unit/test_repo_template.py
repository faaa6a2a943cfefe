"""repo-template keeps its promises (README.md there): the shapes the tests and docs rely on.

The template is loaded with the real loader from a real git commit (as `butido init` makes it).
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from butido_py.config import load_config
from butido_py.plan.dag import build_dag
from butido_py.repository.git_init import (
    TEMPLATE_SOURCES,
    copy_template,
    find_template,
    init_and_commit,
)
from butido_py.repository.load import load_repository
from butido_py.repository.model import Repository
from butido_py.sources.cache import SourceCache, verify_sources

PHASES = ("sourcecheck", "patchcheck", "depcheck", "build")
DEBIAN = "debian:bookworm"
TINY = "butido-tiny:latest"
CHECKOUT_TEMPLATE = Path(__file__).resolve().parents[2] / "repo-template"


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Repository:
    root = tmp_path_factory.mktemp("template") / "repo"
    copy_template(find_template(), root)
    init_and_commit(root, "template")
    return load_repository(root)


def edges(repository: Repository) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Every package's dependencies (conditional ones included) as (name, version) keys."""
    return {p.key: [(d.name, d.version) for d in p.dependencies] for p in repository.packages}


def test_the_checkout_template_is_found() -> None:
    assert find_template() == CHECKOUT_TEMPLATE


def test_at_least_20_packages_every_dependency_exists(repository: Repository) -> None:
    assert len(repository.packages) >= 20
    graph = edges(repository)
    missing = [(pkg, dep) for pkg, deps in graph.items() for dep in deps if dep not in graph]
    assert missing == []


def test_a_chain_of_at_least_6_packages(repository: Repository) -> None:
    graph = edges(repository)

    @functools.cache
    def depth(key: tuple[str, str]) -> int:
        return 1 + max((depth(dep) for dep in graph[key]), default=0)

    assert max(depth(key) for key in graph) >= 6
    assert depth(("desktop", "1.0")) >= 6


def test_a_diamond(repository: Repository) -> None:
    graph = edges(repository)

    def reachable(key: tuple[str, str]) -> set[tuple[str, str]]:
        seen: set[tuple[str, str]] = set()
        todo = list(graph[key])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(graph[node])
        return seen

    def diamonds() -> Iterator[tuple[str, str]]:
        for top, deps in graph.items():
            for index, left in enumerate(deps):
                for right in deps[index + 1 :]:
                    if reachable(left) & reachable(right) and left not in reachable(right):
                        yield top

    assert ("pango", "1.51.0") in set(diamonds())


def test_several_versions_under_a_shared_layer(repository: Repository) -> None:
    zlibs = repository.versions_of("zlib")
    assert [p.version for p in zlibs] == ["1.2.13", "1.3", "1.3.1"]
    parents = {PurePosixPath(p.pkg_toml).parent.parent for p in zlibs}
    assert len(parents) == 1
    (parent,) = parents
    assert (CHECKOUT_TEMPLATE / parent / "pkg.toml").is_file()


def test_patches_from_more_than_one_layer(repository: Repository) -> None:
    patches = {p.key: p.patches for p in repository.packages if p.patches}
    assert patches[("zlib", "1.2.13")] == (
        "libs/zlib/zlib-pkgconfig.patch",
        "libs/zlib/1.2.13/CVE-2022-37434.patch",
    )
    assert patches[("zlib", "1.3")] == ("libs/zlib/zlib-pkgconfig.patch",)
    assert patches[("libc", "2.38")] == ("base/libc/libc-locale.patch",)
    assert ("zlib", "1.3.1") not in patches  # its own `patches = []` replaces the layer's list
    for path in {p for paths in patches.values() for p in paths}:
        assert repository.patch_contents[path].count(b"\n+++ ") == 1


def test_conditional_dependencies_and_environment(repository: Repository) -> None:
    desktop = repository.find("desktop", "1.0")
    assert desktop is not None
    conditions = {d.name: d.condition for d in desktop.runtime_dependencies if d.condition}
    has_env = conditions["docs-extra"]
    assert has_env is not None
    assert has_env.has_env == ("WITH_DOCS",)
    for name in ("debian-compat", "hello-c"):
        in_image = conditions[name]
        assert in_image is not None
        assert in_image.in_image == (DEBIAN,)
    zlib = repository.find("zlib", "1.3.1")
    assert zlib is not None
    # One variable from the shared layer, one from the leaf: tables are merged.
    assert dict(zlib.environment or ()) == {
        "BUILD_ZLIB_COMPAT": "1",
        "BUILD_ZLIB_VARIANT": "current",
    }


def tree(
    repository: Repository, image: str | None, env: tuple[tuple[str, str], ...] = ()
) -> set[tuple[str, str]]:
    desktop = repository.find("desktop", "1.0")
    assert desktop is not None
    return {p.key for p in build_dag(repository, desktop, image=image, env=env).nodes}


def test_the_c_package_is_in_the_tree_only_on_the_debian_image(repository: Repository) -> None:
    """tiny has no compiler: hello-c (and debian-compat) come in with `-I debian` only."""
    debian, tiny, unknown = tree(repository, DEBIAN), tree(repository, TINY), tree(repository, None)
    assert len(tiny) == 18
    assert tiny == unknown  # without -I, in_image is false
    assert debian - tiny == {("hello-c", "1.0"), ("debian-compat", "1.0")}
    assert tiny <= debian
    docs = (("WITH_DOCS", "1"),)
    assert tree(repository, DEBIAN, docs) - tree(repository, TINY, docs) == debian - tiny
    hello_c = repository.find("hello-c", "1.0")
    assert hello_c is not None
    assert {p.key for p in build_dag(repository, hello_c, image=DEBIAN).nodes} == {
        ("hello-c", "1.0"),
        ("make", "4.4.1"),
        ("libc", "2.38"),
        ("filesystem", "1.0"),
    }


def test_the_non_reproducible_package_is_in_no_tree(repository: Repository) -> None:
    assert repository.find("clock", "1.0") is not None
    assert all(("clock", "1.0") not in deps for deps in edges(repository).values())
    for image in (DEBIAN, TINY):
        assert ("clock", "1.0") not in tree(repository, image, (("WITH_DOCS", "1"),))


def test_every_package_defines_exactly_the_configured_phases(repository: Repository) -> None:
    config = tomllib.loads((CHECKOUT_TEMPLATE / "config.toml").read_text())
    assert tuple(config["available_phases"]) == PHASES
    for package in repository.packages:
        assert tuple(p.name for p in package.phases) == PHASES, package


def test_every_package_has_a_bundled_source_with_its_hash(repository: Repository) -> None:
    cache = CHECKOUT_TEMPLATE / TEMPLATE_SOURCES
    entries = SourceCache(cache).entries(repository.packages)
    assert len(entries) == len(repository.packages)
    bad = [r.message for r in verify_sources(entries) if not r.ok]
    assert bad == []
    bundled = {p for p in cache.rglob("*") if p.is_file()}
    assert bundled == {e.path for e in entries}  # no stray files either
    assert {s.source.hash_type for s in entries} == {"sha1", "sha256", "sha512"}
    assert any(e.source.download_manually for e in entries)


def test_source_urls_point_to_loopback(repository: Repository) -> None:
    for package in repository.packages:
        for src in package.sources:
            assert src.url == (
                f"http://127.0.0.1:8765/{package.name}-{package.version}/src.source"
            ), package


def test_the_template_config_is_valid(tmp_path: Path) -> None:
    environ = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}
    loaded = load_config(
        cwd=tmp_path, environ=environ, config_file=CHECKOUT_TEMPLATE / "config.toml"
    )
    config = loaded.config
    assert config.available_phases == PHASES
    assert {(i.name, i.short_name) for i in config.docker.images} == {
        ("debian:bookworm", "debian"),
        ("butido-tiny:latest", "tiny"),
    }
    assert [e.uri for e in config.docker.endpoints] == ["unix:///var/run/docker.sock"]
    assert config.source_cache == tmp_path / ".local/share/butido/sources"


def package_env_names(repository: Repository) -> set[str]:
    return {name for p in repository.packages for name, _ in p.environment or ()}


def test_allowed_env_lists_every_package_variable(repository: Repository) -> None:
    config = tomllib.loads((CHECKOUT_TEMPLATE / "config.toml").read_text())
    allowed = set(config["containers"]["allowed_env"])
    assert package_env_names(repository) | {"WITH_DOCS"} <= allowed


def test_packages_are_what_the_readme_says(repository: Repository) -> None:
    readme = (CHECKOUT_TEMPLATE / "README.md").read_text()
    assert f"{len(repository.packages)} packages" in readme
    names = {p.name for p in repository.packages}
    assert all(name in readme for name in names)
