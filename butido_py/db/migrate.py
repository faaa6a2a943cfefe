"""Alembic, configured from code: apply pending migrations, and check that the schema is current.

The migrations live in `<checkout>/migrations`; the wheel ships them as `butido_py/migrations`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

import butido_py
from butido_py.config.database import redact_url
from butido_py.db.adopt import (
    ADOPT_HINT,
    AdoptionSummary,
    check_butido_schema,
    copy_butido_rows,
    is_butido_database,
    move_butido_tables_aside,
)
from butido_py.db.models import METADATA
from butido_py.db.schema import newer_schema_error
from butido_py.errors import DatabaseError

#: Key of the PostgreSQL advisory lock that serialises concurrent `db setup` runs.
SETUP_LOCK_KEY = 0x42555449444F  # "BUTIDO"


@dataclass(frozen=True, slots=True)
class MigrationRecord:
    revision: str
    message: str


@dataclass(frozen=True, slots=True)
class SetupResult:
    """What `db setup` did: the migrations it applied (oldest first) and the revision now."""

    applied: tuple[MigrationRecord, ...]
    revision: str
    #: What was taken over from butido (Rust) (`adopt_butido`), if anything.
    adopted: AdoptionSummary | None = None


def migrations_dir() -> Path:
    package = Path(butido_py.__file__).resolve().parent
    for candidate in (package / "migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise DatabaseError(
        f"the database migrations are missing (looked in {package / 'migrations'} and "
        f"{package.parent / 'migrations'})",
        hint="reinstall butido_py",
    )


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the baseline always exists
        raise DatabaseError("no migrations found", hint="reinstall butido_py")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def setup_schema(
    engine: Engine, *, adopt_butido: bool = False, progress: Callable[[str], None] | None = None
) -> SetupResult:
    """Apply every pending migration; idempotent. Serialised by an advisory lock on PostgreSQL.

    With `adopt_butido`, a database of butido (Rust) is converted in place (db/adopt.py), in one
    transaction with the migrations; `progress` hears of each step of that (it can take minutes
    on a big database)."""
    try:
        return _setup_schema(engine, adopt_butido, progress or (lambda _step: None))
    except DBAPIError as exc:
        raise DatabaseError(
            f"db setup failed on {redact_url(engine.url.render_as_string(hide_password=False))}: "
            f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}",
            hint="check that the database user may create tables, and the server's log",
        ) from exc


def _setup_schema(
    engine: Engine, adopt_butido: bool, progress: Callable[[str], None]
) -> SetupResult:
    script = ScriptDirectory.from_config(alembic_config())
    adopted = None
    with engine.connect() as connection, _setup_lock(connection):
        before = current_revision(connection)
        migrations = _refuse_foreign_schema(
            connection, before, {r.revision for r in script.walk_revisions()}, adopt_butido
        )
        if migrations is None:
            connection.commit()
        else:  # butido's tables aside, in the same transaction as the migrations and the copy
            progress("moving butido's tables aside")
            move_butido_tables_aside(connection)
        head = head_revision()
        pending = [] if before == head else list(script.iterate_revisions(head, before))
        pending.reverse()
        if pending:
            if migrations is not None:
                progress("creating butido_py's schema")
            command.upgrade(alembic_config(connection), "head")
            if migrations is not None:
                adopted = copy_butido_rows(connection, migrations, progress)
                progress("committing")
            connection.commit()
    applied = tuple(MigrationRecord(r.revision, r.doc or "") for r in pending)
    return SetupResult(applied=applied, revision=head, adopted=adopted)


def _refuse_foreign_schema(
    connection: Connection, revision: str | None, known: set[str], adopt_butido: bool
) -> int | None:
    """Migrate only what butido_py created: not a newer butido_py's schema, not unrelated tables
    that happen to share a name, and butido's (Rust) tables only when asked to adopt them (then
    the number of butido's migrations applied there)."""
    where = redact_url(connection.engine.url.render_as_string(hide_password=False))
    if revision is not None:
        if revision not in known:
            raise newer_schema_error(where, revision)
        return None
    if is_butido_database(connection):
        if not adopt_butido:
            raise DatabaseError(
                f"the database {where} was created by butido (Rust)", hint=ADOPT_HINT
            )
        return check_butido_schema(connection, where)
    existing = set(inspect(connection).get_table_names())
    clash = sorted(existing & set(METADATA.tables))
    if clash:
        raise DatabaseError(
            f"the database {where} has no butido_py schema revision but already has the "
            f"table(s) {', '.join(clash)}",
            hint="give butido_py an empty database (database_name or database_url)",
        )
    return None


def downgrade_schema(engine: Engine, revision: str = "base") -> None:
    """Used by tests (round trip) and by developers; not exposed as a command."""
    with engine.connect() as connection, _setup_lock(connection):
        command.downgrade(alembic_config(connection), revision)
        connection.commit()


@contextmanager
def _setup_lock(connection: Connection) -> Iterator[None]:
    if connection.dialect.name == "sqlite":
        with _sqlite_tables_rebuildable(connection):
            yield
        return
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.execute(text("select pg_advisory_lock(:key)"), {"key": SETUP_LOCK_KEY})
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()
        connection.execute(text("select pg_advisory_unlock(:key)"), {"key": SETUP_LOCK_KEY})
        connection.commit()


@contextmanager
def _sqlite_tables_rebuildable(connection: Connection) -> Iterator[None]:
    """SQLite alters most things by rebuilding the table (copy, drop, rename): with foreign keys
    enforced, dropping a table that others reference (`submits`, `jobs`) fails once they hold
    rows. SQLite's own recipe: keys off outside any transaction, migrate, check every key, keys
    on again (the pragma is a no-op inside a transaction, hence the commit first)."""
    connection.commit()
    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        connection.rollback()
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.commit()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise DatabaseError(
            f"the migration left {len(broken)} broken reference(s) in {', '.join(tables)}",
            hint="restore the database from its backup and report this as a bug",
        )
