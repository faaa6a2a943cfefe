"""The bad-input corpus of the configuration, run against every command that works in a
repository: as butido does, each of them reads and checks config.toml first, and a mistake is one
line on stderr with the configuration exit code (never exit 0 with the output printed anyway).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from butido_py.errors import ExitCode
from tests.e2e.conftest import Runner
from tests.helpers.gitrepo import ROOT_LAYER, init_repo, leaf

GOOD = 'compatibility = 1\navailable_phases = ["build"]\nscript_linter = "/bin/true"\n'

#: Every repository command, with arguments that succeed on the repository below.
COMMANDS: dict[str, tuple[str, ...]] = {
    "tree-of": ("tree-of", "app"),
    "what-depends": ("what-depends", "lib"),
    "dependencies-of": ("dependencies-of", "app"),
    "versions-of": ("versions-of", "app"),
    "env-of": ("env-of", "app", "1.0"),
    "find-pkg": ("find-pkg", "app"),
    "lint": ("lint",),
    "source-url": ("source", "url", "app"),
    "source-of": ("source", "of", "app"),
    "source-list-missing": ("source", "list-missing"),
    "source-verify": ("source", "verify", "app"),
}

#: (config.toml text, words the one-line error must contain)
MISTAKES: dict[str, tuple[str, str]] = {
    "broken-toml": (GOOD + "x = [\n", "invalid TOML"),
    "unknown-key": (GOOD + "stagin = '/x'\n", "did you mean 'staging'?"),
    "unknown-key-in-table": (GOOD + "[docker]\nimage = []\n", "docker.image: unknown key"),
    "compatibility-too-new": (GOOD.replace("= 1", "= 99"), "compatibility = 99"),
    "compatibility-not-a-number": (GOOD.replace("= 1", "= 'one'"), "compatibility"),
    "compatibility-missing": ('available_phases = ["build"]\n', "compatibility"),
    "available-phases-missing": ("compatibility = 1\n", "available_phases: missing required key"),
    "available-phases-empty": ("compatibility = 1\navailable_phases = []\n", "available_phases"),
    "wrong-type": (GOOD + "build_error_lines = 'ten'\n", "expected an integer"),
}


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mistakes") / "pkgs"
    return init_repo(
        root,
        {
            "pkg.toml": ROOT_LAYER,
            "app/pkg.toml": leaf("app", "1.0", '[dependencies]\nbuild = ["lib =2"]\n'),
            "lib/pkg.toml": leaf("lib", "2"),
        },
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_runs_with_a_good_config(
    inline: Runner, repository: Path, command: str
) -> None:
    """The corpus below can fail: with a correct config.toml each command succeeds."""
    (repository / "config.toml").write_text(GOOD)
    result = inline(*COMMANDS[command], cwd=repository)
    # `source verify` and `list-missing` find the sources missing (exit 8); not a config error.
    assert result.code in (0, ExitCode.SOURCE), result.stderr
    assert "config" not in result.stderr


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_config_mistake_fails_every_repository_command(
    inline: Runner, repository: Path, command: str, mistake: str
) -> None:
    text, words = MISTAKES[mistake]
    (repository / "config.toml").write_text(text)
    result = inline(*COMMANDS[command], cwd=repository)
    assert result.code == ExitCode.CONFIG, (result.stdout, result.stderr)
    assert result.stdout == ""
    first, *rest = result.stderr.splitlines()
    assert first.startswith("error: "), result.stderr
    assert words in first, result.stderr
    assert all(line.startswith("hint: ") for line in rest), result.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_config_file_is_an_error(
    inline: Runner, repository: Path, tmp_path: Path, command: str
) -> None:
    (repository / "config.toml").write_text(GOOD)
    missing = tmp_path / "nope.toml"
    result = inline("-c", str(missing), *COMMANDS[command], cwd=repository)
    assert result.code == ExitCode.CONFIG
    assert result.stderr.startswith(f"error: {missing}: configuration file not found\n")
