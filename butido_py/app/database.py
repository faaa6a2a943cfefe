"""`butido db setup`: create the schema, or apply pending migrations, on the configured database;
with `adopt_butido`, convert a database of butido (Rust) in place first (db/adopt.py).

`open_ready_database`: what every other command opens. An embedded SQLite database is created and
migrated on first use (a file on one machine: nobody else to coordinate with); a PostgreSQL
database is a team's, set up on purpose with `db setup`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from butido_py.config.database import redact_url
from butido_py.db.database import Database, open_database
from butido_py.db.engine import ServerInfo, open_engine, server_info, sqlite_file
from butido_py.db.retry import DEFAULT_RETRY_SECONDS
from butido_py.db.schema import SchemaNotReadyError

# Alembic (db/migrate.py) costs ~100 ms to import: only `db setup` and a first use load it.
if TYPE_CHECKING:
    from butido_py.db.migrate import SetupResult


@dataclass(frozen=True, slots=True)
class DatabaseSetup:
    #: The database URL without its password, as it may be shown.
    database: str
    server: ServerInfo
    #: The migrations applied, the revision now, and what was adopted from butido (Rust).
    schema: SetupResult


def setup_database(
    url: str, *, adopt_butido: bool, progress: Callable[[str], None]
) -> DatabaseSetup:
    """Idempotent: a second run applies nothing. `progress` hears of each adoption step (adopting
    a big butido database can take minutes)."""
    from butido_py.db.migrate import setup_schema  # noqa: PLC0415 - see the imports

    engine = open_engine(url)
    try:
        info = server_info(engine)
        result = setup_schema(engine, adopt_butido=adopt_butido, progress=progress)
    finally:
        engine.dispose()
    return DatabaseSetup(database=redact_url(url), server=info, schema=result)


@dataclass(frozen=True, slots=True)
class AutoSetup:
    """An embedded database set up on first use: its file, the revision it had (None: new)."""

    path: Path
    before: str | None
    revision: str


def open_ready_database(
    url: str, *, on_setup: Callable[[AutoSetup], None], retry_seconds: float = DEFAULT_RETRY_SECONDS
) -> Database:
    """The database at `url`, its schema checked. A SQLite database without a schema (or without
    a file) or at an older revision is set up first, and `on_setup` hears of it; PostgreSQL's
    refusal names `db setup`. Costs nothing more when the schema is current. `retry_seconds`:
    `database_retry_seconds`."""
    try:
        return open_database(url, retry_seconds=retry_seconds)
    except SchemaNotReadyError as refused:
        path = sqlite_file(url)
        if path is None:
            raise
        before = refused.revision
    done = setup_database(url, adopt_butido=False, progress=lambda _step: None)
    on_setup(AutoSetup(path=path, before=before, revision=done.schema.revision))
    return open_database(url, retry_seconds=retry_seconds)
