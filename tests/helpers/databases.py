"""Fresh, empty databases for tests: an empty SQLite file, or a private schema in the PostgreSQL
test DB.

A PostgreSQL schema per test is created in milliseconds; the URL selects it through the
`search_path` connection option, so Alembic, the recording layer and the CLI all use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Table, func, select, text

from butido_py.db.database import Database
from butido_py.db.engine import open_engine, server_info
from butido_py.errors import ButidoError
from tests.plugins.services import service_missing

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@contextmanager
def fresh_database_url(backend: str, tmp_path: Path, postgres_url: str) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / f"db-{uuid.uuid4().hex[:8]}.sqlite"
        path.touch()  # an empty file is an empty SQLite database
        yield f"sqlite:///{path}"
        return
    admin = open_engine(postgres_url)
    try:
        server_info(admin)
    except ButidoError as exc:
        admin.dispose()
        service_missing("PostgreSQL", exc)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f"create schema {schema}"))
    separator = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


def count_rows(db: Database, table: Table) -> int:
    with db.begin() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
