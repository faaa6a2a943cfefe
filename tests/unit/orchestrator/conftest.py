from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from butido_py.db.database import Database, open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema


@pytest.fixture(scope="session")
def empty_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the current schema, migrated once for every test that copies it."""
    path = tmp_path_factory.mktemp("schema") / "schema.sqlite"
    engine = open_engine(f"sqlite:///{path}")
    try:
        setup_schema(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture
def database(empty_schema: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "butido.sqlite"
    shutil.copyfile(empty_schema, path)
    db = open_database(f"sqlite:///{path}")
    yield db
    db.close()
