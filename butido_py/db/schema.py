"""The schema check every database command makes, without importing Alembic (slow to import).

`SCHEMA_REVISION` must name the newest migration; a test compares it with Alembic's head.
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

import butido_py
from butido_py.db.adopt import ADOPT_HINT, is_butido_database
from butido_py.db.engine import connected
from butido_py.errors import DatabaseError

SCHEMA_REVISION = "0006"
#: Every revision this butido_py knows, oldest first.
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006")

SETUP_HINT = "run `butido db setup` to create or upgrade the schema"


class SchemaNotReadyError(DatabaseError):
    """A database this butido_py can set up or upgrade itself: no schema yet (or, for SQLite, no
    file yet), or an older revision it knows. `db setup` does it; an embedded SQLite database
    is set up on first use (app/database.py)."""

    def __init__(self, message: str, *, revision: str | None) -> None:
        super().__init__(message, hint=SETUP_HINT)
        #: The revision found; None: no schema (or no file).
        self.revision = revision


def stored_revision(engine: Engine) -> str | None:
    """The revision in alembic_version; None when there is no such table. One statement on one
    new connection when the table is there (every database command pays it); asks whether the
    table exists only when reading it failed."""
    try:
        with connected(engine) as connection:
            value = connection.execute(text("select version_num from alembic_version")).scalar()
    except DBAPIError:
        with connected(engine) as connection:
            if inspect(connection).has_table("alembic_version"):
                raise
        return None
    return None if value is None else str(value)


def check_schema(engine: Engine, display_url: str) -> None:
    """Refuse a database whose schema is missing or not at this butido_py's revision; the
    connection error of `server_info` when the database cannot be reached."""
    current = stored_revision(engine)
    if current == SCHEMA_REVISION:
        return
    if current is None:
        with engine.connect() as connection:
            butido_rust = is_butido_database(connection)
        if butido_rust:
            raise DatabaseError(
                f"the database {display_url} was created by butido (Rust)", hint=ADOPT_HINT
            )
        raise SchemaNotReadyError(f"the database {display_url} has no butido schema", revision=None)
    if current not in KNOWN_REVISIONS:
        raise newer_schema_error(display_url, current)
    raise SchemaNotReadyError(
        f"the database {display_url} has schema revision {current}, "
        f"but this butido_py needs {SCHEMA_REVISION}",
        revision=current,
    )


def newer_schema_error(display_url: str, revision: str) -> DatabaseError:
    return DatabaseError(
        f"the database {display_url} has schema revision {revision}, which this butido_py "
        f"({butido_py.__version__}) does not know: it was upgraded by a newer version",
        hint="upgrade butido_py",
    )
