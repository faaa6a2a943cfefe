"""Rendering the scripts of every repo-template package: first (compiling) and again (cached).

Run: .venv/bin/python bench/bench_render.py
Templates are compiled once per distinct phase text, so a repository whose packages share the
phases of a root pkg.toml compiles only a handful of templates.
"""

from __future__ import annotations

import tempfile
import time
import tomllib
from pathlib import Path

from butido_py.repository.git_init import copy_template, find_template, init_and_commit
from butido_py.repository.load import load_repository
from butido_py.script import render_script


def main() -> None:
    template = find_template()
    phases = tuple(tomllib.loads((template / "config.toml").read_text())["available_phases"])
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "repo"
        copy_template(template, root)
        init_and_commit(root, "repo-template")
        packages = load_repository(root).packages
        for label in ("first render (compiles)", "second render (cached)"):
            start = time.perf_counter()
            size = sum(
                len(render_script(p, phases=phases, shebang="#!/bin/bash", strict=True))
                for p in packages
            )
            seconds = time.perf_counter() - start
            print(
                f"{label:<26} {len(packages)} packages, {size / 1000:.0f} kB of script "
                f"in {seconds * 1000:.1f} ms"
            )


if __name__ == "__main__":
    main()
