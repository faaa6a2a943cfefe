"""Rendered scripts of repo-template packages, byte for byte.

The repository is loaded like `butido` does: from a commit of a git copy of `repo-template/`.
Regenerate the golden files after an intended change with
`BUTIDO_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/script/test_golden.py`, and review the diff.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import pytest

from butido_py.repository.load import load_repository
from butido_py.repository.model import Repository
from butido_py.script import render_script
from tests.helpers.gitrepo import ROOT_LAYER, commit_all, git, init_repo, leaf

TEMPLATE = Path(__file__).resolve().parents[3] / "repo-template"
GOLDEN = Path(__file__).resolve().parent / "golden"
PACKAGES = [
    ("zlib", "1.2.13"),  # patches from two layers, [environment]
    ("zlib", "1.3.1"),  # no patches
    ("hello", "2.12.1"),  # sha1 source, no dependencies
    ("desktop", "1.0"),  # conditional dependencies
    ("debian-compat", "1.0"),
    ("hello-c", "1.0"),  # compiled with gcc, reproducible tarball
    ("clock", "1.0"),  # deliberately not reproducible
]


@pytest.fixture(scope="module")
def template_repository(tmp_path_factory: pytest.TempPathFactory) -> Repository:
    root = tmp_path_factory.mktemp("golden") / "repo"
    shutil.copytree(TEMPLATE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    commit_all(root, "repo-template")
    return load_repository(root)


@pytest.fixture(scope="module")
def config() -> dict[str, object]:
    return tomllib.loads((TEMPLATE / "config.toml").read_text())


@pytest.mark.parametrize(("name", "version"), PACKAGES)
def test_rendered_script_matches_the_golden_file(
    template_repository: Repository, config: dict[str, object], name: str, version: str
) -> None:
    package = template_repository.find(name, version)
    assert package is not None
    phases = config["available_phases"]
    assert isinstance(phases, list)
    script = render_script(
        package, phases=tuple(phases), shebang=str(config["shebang"]), strict=True
    )
    golden = GOLDEN / f"{name}-{version}.sh"
    if os.environ.get("BUTIDO_UPDATE_GOLDEN") == "1":
        golden.write_text(script)
    assert script == golden.read_text()


def test_every_template_package_renders_in_strict_mode(
    template_repository: Repository, config: dict[str, object]
) -> None:
    phases = config["available_phases"]
    assert isinstance(phases, list)
    scripts = [
        render_script(package, phases=tuple(phases), shebang="#!/bin/bash", strict=True)
        for package in template_repository.packages
    ]
    assert len(scripts) >= 20
    assert all("echo '#BUTIDO:STATE:OK'" in script for script in scripts)


def test_a_path_phase_renders_the_file_of_the_pinned_commit(tmp_path: Path) -> None:
    files = {
        "pkg.toml": ROOT_LAYER.replace('build.script = "echo build"', 'build.path = "build.sh"'),
        "build.sh": '    echo "building {{this.name}}"\n    {{state "OK"}}\n',
        "a/pkg.toml": leaf("alpha", "1.0"),
    }
    root = init_repo(tmp_path / "repo", files)
    pinned = git(root, "rev-parse", "HEAD")
    (root / "build.sh").write_text("echo later\n")
    commit_all(root, "later")
    package = load_repository(root, commit=pinned).find("alpha", "1.0")
    assert package is not None
    script = render_script(package, phases=("build",), shebang="#!/bin/bash", strict=True)
    assert script == (
        "#!/bin/bash\n### phase build\n"
        'echo "building alpha"\n'
        "echo '#BUTIDO:STATE:OK'\n"
        "\n### / build phase\n\n"
    )
