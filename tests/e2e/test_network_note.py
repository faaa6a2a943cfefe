"""`network_mode`: butido_py runs job containers without a network unless the endpoint sets it
(butido used Docker's default). `config check`, the build header and the report of a failed build
say so once when the endpoint does not set it; nothing is said when it does. Real Docker, SQLite."""

from __future__ import annotations

import json

import pytest

from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.docker

NOTE = (
    "none on primary (network_mode not set; butido used Docker's default network): "
    'set network_mode = "bridge" on the endpoint for network access as in butido'
)


def unset_network_mode(space: Workspace) -> None:
    config = space.root / "config.toml"
    config.write_text(config.read_text().replace('network_mode = "none"\n', ""))


def test_config_check_names_endpoints_without_network_mode(sqlite_workspace: Workspace) -> None:
    space = sqlite_workspace
    before = space.cli("config", "check")
    assert before.code == 0, before.stderr
    assert "network:" not in before.stdout
    unset_network_mode(space)
    after = space.cli("config", "check")
    assert f"  network:         {NOTE}\n" in after.stdout
    summary = json.loads(space.cli("config", "check", "--json").stdout)
    assert summary["network_mode_not_set"] == ["primary"]


def test_build_header_and_failure_report_mention_it_once(sqlite_workspace: Workspace) -> None:
    space = sqlite_workspace
    space.add_package("offline", build="{{phase 'build'}}\necho no network here; exit 3")
    space.commit("a failing package")
    unset_network_mode(space)
    done = space.cli("build", "offline", "1", "-I", "tiny")
    assert done.code == 1, done.stderr
    assert done.stdout.count(f"Network:         {NOTE}\n") == 1
    assert done.stdout.count("note: failed jobs ran without a network on primary") == 1
    assert "[ERROR] offline 1: job " in done.stdout
