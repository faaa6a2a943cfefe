"""`pip install .` (not editable) into a clean venv gives a working `butido` with its migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from butido_py import __version__

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run(
    *argv: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", out, ROOT)
    (built,) = out.glob("butido_py-*.whl")
    return built


def test_wheel_contains_the_package_and_the_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "butido_py/cli/main.py" in names
    assert "butido_py/migrations/env.py" in names
    assert "butido_py/migrations/script.py.mako" in names
    assert "butido_py/repo_template/pkg.toml" in names
    assert "butido_py/repo_template/sources/hello-2.12.1/src.source" in names
    assert not any(name.startswith(("tests/", "butido_py/tests/")) for name in names)


def test_clean_venv_install_gives_a_working_command(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", wheel)
    butido = env_dir / "bin" / "butido"
    help_text = run(butido, "--help", cwd=tmp_path).stdout
    assert "Usage: butido [OPTIONS] COMMAND [ARGS]..." in help_text
    version = run(butido, "--version", cwd=tmp_path).stdout
    assert version.splitlines()[0] == f"butido_py {__version__}"
    # The installed package is the wheel's, not this checkout's.
    where = run(python, "-c", "import butido_py; print(butido_py.__file__)", cwd=tmp_path).stdout
    assert where.strip().startswith(str(env_dir))
    migrations = run(
        python,
        "-c",
        "import importlib.resources as r; print(r.files('butido_py') / 'migrations' / 'env.py')",
        cwd=tmp_path,
    ).stdout.strip()
    assert Path(migrations).is_file()
    # `butido init` finds the example repository inside the installed package.
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "NO_COLOR": "1"}
    run(butido, "init", tmp_path / "ex", cwd=tmp_path, env=env)
    assert (tmp_path / "ex" / "desktop" / "desktop" / "pkg.toml").is_file()
