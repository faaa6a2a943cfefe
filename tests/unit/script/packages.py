"""Packages built in tests (no repository needed)."""

from __future__ import annotations

from butido_py.package.model import (
    Condition,
    Dependency,
    DependencyKind,
    HashType,
    Package,
    Phase,
    Source,
)

PHASES = ("sourcecheck", "patchcheck", "build")


def make_package(
    *,
    phases: dict[str, str] | None = None,
    patches: tuple[str, ...] = (),
    environment: tuple[tuple[str, str], ...] | None = None,
    meta: tuple[tuple[str, str], ...] | None = None,
) -> Package:
    scripts = phases if phases is not None else {name: f"echo {name}\n" for name in PHASES}
    return Package(
        name="zlib",
        version="1.3.1",
        version_is_semver=False,
        sources=(Source("src", "https://example.com", HashType.SHA256, "ab" * 32, False),),
        build_dependencies=(Dependency("make", "4.4.1", DependencyKind.BUILD, text="make =4.4.1"),),
        runtime_dependencies=(
            Dependency("libc", "2.38", DependencyKind.RUNTIME, text="libc 2.38"),
            Dependency(
                "compat",
                "1",
                DependencyKind.RUNTIME,
                condition=Condition(has_env=("COMPAT",)),
                text="compat 1",
            ),
        ),
        patches=patches,
        phases=tuple(Phase(name, script) for name, script in scripts.items()),
        environment=environment,
        meta=meta,
        pkg_toml="libs/zlib/pkg.toml",
    )
