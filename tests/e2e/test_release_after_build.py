"""Issue 7, acceptance 1: a real build (Docker; SQLite and PostgreSQL), then release new,
release list, release rm, and release new --update --yes; the store's files match the recorded
sha256."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from butido_py.config.model import EndpointConfig
from butido_py.db.artifacts import list_artifacts
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.workspace import Workspace, make_workspace

pytestmark = pytest.mark.docker


@pytest.fixture(params=BACKENDS)
def space(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    docker_endpoint: EndpointConfig,
    postgres_url: str,
) -> Iterator[Workspace]:
    with fresh_database_url(request.param, tmp_path, postgres_url) as url:
        workspace = make_workspace(tmp_path, [replace(docker_endpoint, maxjobs=1)], url)
        yield workspace
        workspace.close()


def store_digests(store: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in store.iterdir()}


def test_build_release_list_rm_and_update(space: Workspace) -> None:
    built = space.cli("build", "hello", "2.12.1", "-I", "tiny", "--json")
    assert built.code == 0, built.stderr
    submit = json.loads(built.stdout)["submit"]
    recorded = {a.path: a.sha256 for a in list_artifacts(space.database(), limit=0)}
    assert recorded
    store = space.data / "releases" / "default"

    released = space.cli("release", "new", submit, "--to", "default", "--json")
    assert released.code == 0, released.stderr
    assert {r["path"] for r in json.loads(released.stdout)["released"]} == set(recorded)
    assert store_digests(store) == recorded

    listed = json.loads(space.cli("release", "list", "--json").stdout)
    assert {(r["package"], r["version"]) for r in listed} == {("hello", "2.12.1")}
    assert {r["file"] for r in listed} == {str(store / path) for path in recorded}

    removed = space.cli("release", "rm", "--from", "default", "hello", "2.12.1", "--yes")
    assert removed.code == 0, removed.stderr
    assert list(store.iterdir()) == []
    assert json.loads(space.cli("release", "list", "--json").stdout) == []

    again = space.cli("release", "new", submit, "--to", "default", "--update", "--yes", "--json")
    assert again.code == 0, again.stderr
    assert {r["path"] for r in json.loads(again.stdout)["released"]} == set(recorded)
    assert store_digests(store) == recorded
    assert len(json.loads(space.cli("release", "list", "--json").stdout)) == len(recorded)
