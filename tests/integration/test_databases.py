"""PostgreSQL (started by scripts/services) and SQLite are reachable through SQLAlchemy."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, text

from butido_py.db.engine import open_engine, server_info
from butido_py.errors import DatabaseError


@pytest.mark.postgres
def test_postgres_connection_through_sqlalchemy_and_psycopg(postgres_engine: Engine) -> None:
    info = server_info(postgres_engine)
    assert info.dialect == "postgresql"
    assert postgres_engine.dialect.driver == "psycopg"
    assert int(info.version.split(".")[0]) >= 13
    # A temporary table is private to this connection, so a fixed name cannot collide.
    with postgres_engine.begin() as connection:
        connection.execute(text("create temporary table probe (v text)"))
        connection.execute(text("insert into probe values (:v)"), {"v": "ä€"})
        assert connection.execute(text("select v from probe")).scalar_one() == "ä€"


@pytest.mark.postgres
def test_wrong_password_is_a_database_error(postgres_url: str, postgres_engine: Engine) -> None:
    url = postgres_engine.url.set(password="wrong-" + uuid.uuid4().hex)
    engine = open_engine(url.render_as_string(hide_password=False))
    with pytest.raises(DatabaseError, match="cannot connect to the database") as info:
        server_info(engine)
    assert "wrong-" not in str(info.value)
    engine.dispose()


def test_sqlite_file_and_directory_are_created(sqlite_engine: Engine) -> None:
    info = server_info(sqlite_engine)
    assert info.dialect == "sqlite"
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("pragma foreign_keys")).scalar_one() == 1
    assert sqlite_engine.url.database is not None


def test_unreachable_postgres_names_the_server() -> None:
    engine = open_engine("postgresql+psycopg://u:secret@127.0.0.1:1/n?connect_timeout=2")
    with pytest.raises(DatabaseError) as info:
        server_info(engine)
    assert "127.0.0.1:1" in str(info.value)
    assert "secret" not in str(info.value)
    engine.dispose()
