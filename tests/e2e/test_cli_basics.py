"""The command line as a user meets it: help, version, configuration errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from butido_py import __version__
from butido_py.errors import ExitCode
from tests.e2e.conftest import MINIMAL, Runner
from tests.helpers.json_schema import validated


def test_version_needs_no_configuration(butido: Runner, tmp_path: Path) -> None:
    result = butido("--version", cwd=tmp_path)
    assert result.code == 0
    assert result.stdout.splitlines()[0] == f"butido_py {__version__}"
    assert "configuration compatibility: 1" in result.stdout


def test_help_lists_the_command_groups(butido: Runner, tmp_path: Path) -> None:
    result = butido("--help", cwd=tmp_path)
    assert result.code == 0
    for group in ("config", "db", "endpoint", "release", "source"):
        assert f"\n  {group} " in result.stdout


def test_misspelt_key_is_one_line_with_file_path_and_suggestion(butido: Runner, repo: Path) -> None:
    (repo / "config.toml").write_text(
        MINIMAL
        + '[docker.endpoints.local]\nuri = "/run/docker.sock"\nendpoint_type = "socket"\n'
        + "maxjob = 2\n"
    )
    result = butido("config", "check")
    assert result.code == ExitCode.CONFIG
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        (
            f"error: {repo / 'config.toml'}: docker.endpoints.local.maxjob: unknown key; "
            "did you mean 'maxjobs'?"
        )
    ]


def test_debug_shows_the_traceback(butido: Runner, repo: Path) -> None:
    (repo / "config.toml").write_text(MINIMAL + "maxjob = 2\n")
    result = butido("--debug", "config", "check")
    assert result.code == ExitCode.CONFIG
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: ")


def test_stray_butido_variable_changes_nothing(butido: Runner) -> None:
    plain = butido("config", "show", "--json")
    stray = butido("config", "show", "--json", env={"BUTIDO_REPO": "x"})
    assert plain.code == stray.code == 0
    assert json.loads(plain.stdout) == json.loads(stray.stdout)
    check = butido("config", "check", env={"BUTIDO_REPO": "x"})
    assert check.code == 0
    assert "ignored:         BUTIDO_REPO (not configuration keys)" in check.stdout


def test_config_show_names_origins(butido: Runner, repo: Path) -> None:
    result = butido("config", "show", "--json", env={"BUTIDO_SHEBANG": "#!/bin/sh"})
    assert result.code == 0
    shown = validated("config show", result.stdout)
    assert shown["shebang"] == {
        "value": "#!/bin/sh",
        "origin": "environment variable BUTIDO_SHEBANG",
    }
    assert shown["available_phases"] == {"value": ["build"], "origin": str(repo / "config.toml")}
    assert shown["build_error_lines"] == {"value": 10, "origin": "default"}


def test_config_show_hides_the_password(butido: Runner) -> None:
    result = butido(
        "config", "show", "--csv", "--header", env={"BUTIDO_DATABASE_PASSWORD": "s3cret"}
    )
    assert result.code == 0
    assert "s3cret" not in result.stdout
    assert "database_password,***,environment variable BUTIDO_DATABASE_PASSWORD" in result.stdout


def test_config_check_json_summary(butido: Runner, repo: Path) -> None:
    result = butido("--db-url", "db1", "--db-user", "u", "--db-name", "n", "--db-pw", "a@b",
                    "config", "check", "--json")  # fmt: skip
    assert result.code == 0
    summary = validated("config check", result.stdout)
    assert summary["valid"] is True
    assert summary["database"] == "postgresql+psycopg://u:***@db1:5432/n?connect_timeout=30"
    assert summary["endpoints"] == ["local"]
    assert summary["implicit_endpoint"] is True
    assert summary["repository"] == str(repo)


def test_runs_from_a_subdirectory_of_the_repository(butido: Runner, repo: Path) -> None:
    sub = repo / "a" / "b"
    sub.mkdir(parents=True)
    result = butido("config", "check", "--json", cwd=sub)
    assert result.code == 0
    assert json.loads(result.stdout)["sources"] == [str(repo / "config.toml")]


def test_no_configuration_is_a_clear_error(butido: Runner, tmp_path: Path) -> None:
    result = butido("config", "check", cwd=tmp_path)
    assert result.code == ExitCode.CONFIG
    assert result.stderr.splitlines()[0] == "error: no butido configuration found"
    assert result.stderr.splitlines()[1].startswith("hint: ")


def test_explicit_config_file(butido: Runner, tmp_path: Path) -> None:
    reference = Path(__file__).resolve().parents[2] / "config" / "config.toml"
    result = butido("--config", str(reference), "config", "check", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "configuration is valid" in result.stdout


def test_unknown_command_is_a_usage_error(butido: Runner) -> None:
    result = butido("no-such-command")
    assert result.code == ExitCode.USAGE
    assert "No such command 'no-such-command'" in result.stderr


def test_unknown_endpoint_name(butido: Runner) -> None:
    result = butido("endpoint", "nosuch", "ping", "-n", "1")
    assert result.code == ExitCode.ENDPOINT
    assert result.stderr.splitlines() == [
        "error: endpoint 'nosuch' is not configured",
        "hint: configured endpoints: local",
    ]


def test_dead_endpoint_is_named(butido: Runner, tmp_path: Path) -> None:
    socket = tmp_path / "nothing.sock"
    result = butido("endpoint", "ping", "-n", "1", env={"DOCKER_HOST": f"unix://{socket}"})
    assert result.code == ExitCode.ENDPOINT
    first = result.stderr.splitlines()[0]
    assert first.startswith(
        f"error: endpoint 'local' (unix://{socket}): Docker engine not reachable"
    )
    assert "Traceback" not in result.stderr


def test_tracing_chrome_writes_a_trace(butido: Runner, repo: Path) -> None:
    result = butido("--tracing-chrome", "config", "check")
    assert result.code == 0, result.stderr
    (trace,) = repo.glob("trace-*.json")
    assert result.stderr.strip() == f"trace written to {trace}"
    events = json.loads(trace.read_text())["traceEvents"]
    names = {event["name"] for event in events}
    assert {"butido", "load_config"} <= names
    assert all(event["ph"] == "X" and float(event["dur"]) >= 0 for event in events)
