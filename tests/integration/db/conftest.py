from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from butido_py.db.database import Database, open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from tests.helpers.databases import BACKENDS, fresh_database_url


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str) -> Iterator[str]:
    """The URL of an empty database, once for SQLite and once for PostgreSQL."""
    with fresh_database_url(request.param, tmp_path, postgres_url) as url:
        yield url


@pytest.fixture
def db(empty_url: str) -> Iterator[Database]:
    """A database with the current schema."""
    engine = open_engine(empty_url)
    setup_schema(engine)
    engine.dispose()
    database = open_database(empty_url)
    yield database
    database.close()
