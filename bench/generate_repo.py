"""Generate a synthetic package repository of N packages, committed into a git repository.

Layout: a root `pkg.toml` with the defaults, one layer per group of 100 packages, one leaf per
package. Dependencies make the DAG both deep (package i needs package i-1, so the last package
reaches every other one) and wide (each package also needs up to three random earlier ones,
as build or runtime dependencies).

    python bench/generate_repo.py DIR [N]
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

ROOT_LAYER = """\
version_is_semver = false
patches = []

[dependencies]
build = []
runtime = []

[sources.src]
hash.type = "sha256"

[phases]
build.script = '''
echo "building {{this.name}} {{this.version}}"
'''
"""
GROUP_LAYER = 'patches = ["group.patch"]\n'
HASH = "0" * 64


def package_name(index: int) -> str:
    return f"pkg{index:05d}"


def leaf(index: int, rng: random.Random) -> str:
    runtime = [f'"{package_name(index - 1)} 1.0.{index - 1}"'] if index else []
    build = []
    for other in sorted({rng.randrange(index) for _ in range(3)} if index > 1 else ()):
        if other == index - 1:
            continue
        entry = f'"{package_name(other)} 1.0.{other}"'
        (build if other % 2 else runtime).append(entry)
    return (
        f'name = "{package_name(index)}"\n'
        f'version = "1.0.{index}"\n\n'
        "[dependencies]\n"
        f"build = [{', '.join(build)}]\n"
        f"runtime = [{', '.join(runtime)}]\n\n"
        "[sources.src]\n"
        f'url = "https://example.invalid/{package_name(index)}.tar.gz"\n'
        f'hash.hash = "{HASH}"\n'
    )


def generate(root: Path, count: int, seed: int = 1) -> str:
    """Write and commit the repository; returns the name of the package that needs all others."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
    root.mkdir(parents=True, exist_ok=True)
    (root / "pkg.toml").write_text(ROOT_LAYER)
    (root / "config.toml").write_text(
        'compatibility = 1\navailable_phases = ["build"]\n'
        '[docker]\nimages = [{ name = "debian:bookworm", short_name = "deb12" }]\n'
    )
    for index in range(count):
        group = root / "packages" / f"group{index // 100:03d}"
        if index % 100 == 0:
            group.mkdir(parents=True, exist_ok=True)
            (group / "pkg.toml").write_text(GROUP_LAYER)
            (group / "group.patch").write_text(f"patch of group {index // 100}\n")
        directory = group / package_name(index)
        directory.mkdir()
        (directory / "pkg.toml").write_text(leaf(index, rng))
    git = ["git", "-C", str(root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run(
        [*git, "-c", "user.name=bench", "-c", "user.email=bench@example.invalid",
         "commit", "-q", "--no-verify", "-m", f"{count} packages"],
        check=True,
    )  # fmt: skip
    return package_name(count - 1)


def main() -> None:
    root = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    top = generate(root, count)
    print(f"{count} packages in {root}; try: cd {root} && butido tree-of {top}")


if __name__ == "__main__":
    main()
