"""Build workspaces (tests/helpers/workspace.py) as fixtures, for integration and e2e tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from butido_py.config.model import EndpointConfig
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.workspace import Workspace, make_workspace


@pytest.fixture(params=BACKENDS)
def workspace(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_url: str,
    docker_endpoint: EndpointConfig,
) -> Iterator[Workspace]:
    """The template repository, one endpoint (maxjobs 2), once on SQLite and once on PostgreSQL."""
    with fresh_database_url(request.param, tmp_path, postgres_url) as url:
        space = make_workspace(tmp_path, [replace(docker_endpoint, maxjobs=2)], url)
        yield space
        space.close()


@pytest.fixture
def sqlite_workspace(tmp_path: Path, docker_endpoint: EndpointConfig) -> Iterator[Workspace]:
    space = make_workspace(
        tmp_path, [replace(docker_endpoint, maxjobs=2)], f"sqlite:///{tmp_path / 'b.sqlite'}"
    )
    yield space
    space.close()
