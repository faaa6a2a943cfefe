"""`Database`: an engine plus the schema check. Every other module of db/ takes one of these."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from butido_py.config.database import redact_url
from butido_py.db.engine import open_engine, server_info, sqlite_file
from butido_py.db.schema import SETUP_HINT, check_schema
from butido_py.errors import DatabaseError


class Database:
    """A connection pool to one database whose schema is known to be current."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.display_url = redact_url(engine.url.render_as_string(hide_password=False))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except IntegrityError as exc:
            raise DatabaseError(
                f"the database refused a row: {_reason(exc)}",
                hint="this is a bug in butido_py; please report it with the command you ran",
            ) from exc
        except OperationalError as exc:
            raise DatabaseError(
                f"database error on {self.display_url}: {_reason(exc)}",
                hint="check that the database server is running and reachable",
            ) from exc
        except DBAPIError as exc:
            raise DatabaseError(
                f"the database rejected a statement: {_reason(exc)}",
                hint="this is a bug in butido_py; please report it with the command you ran",
            ) from exc

    def close(self) -> None:
        self.engine.dispose()


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_database(url: str, *, check: bool = True) -> Database:
    """Connect to `url`; with `check`, refuse a missing or out-of-date schema (naming db setup)."""
    if check:
        _refuse_missing_sqlite_file(url)
    engine = open_engine(url)
    try:
        if check:  # connecting and the schema check: one statement (issue 23)
            check_schema(engine, redact_url(url))
        else:
            server_info(engine)
    except (DatabaseError, SQLAlchemyError):
        engine.dispose()
        raise
    return Database(engine)


def _refuse_missing_sqlite_file(url: str) -> None:
    """Reading commands must not leave an empty database file behind (SQLite creates one)."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise DatabaseError(f"the database file {path} does not exist", hint=SETUP_HINT)
