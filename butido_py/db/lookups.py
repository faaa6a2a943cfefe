"""Race-safe get-or-create for the lookup tables (envvars, githashes, packages, images, endpoints,
release stores), and their listings.

`INSERT … ON CONFLICT DO NOTHING` followed by a `SELECT`: on PostgreSQL a concurrent insert of the
same key makes the second INSERT wait for the first transaction and then do nothing, and the SELECT
(READ COMMITTED) sees the committed row; on SQLite writers are serialised anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Table, and_, select, tuple_
from sqlalchemy.sql.dml import Insert

from butido_py.db.database import Database
from butido_py.db.models import ENDPOINTS, ENVVARS, GITHASHES, IMAGES, PACKAGES, RELEASE_STORES
from butido_py.db.records import (
    EndpointRecord,
    EnvVarRecord,
    GitHashRecord,
    ImageRecord,
    PackageRecord,
    ReleaseStoreRecord,
)
from butido_py.errors import DatabaseError


def insert_ignoring_conflicts(connection: Connection, table: Table) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` in the dialect of `connection`."""
    # Imported here: the engine has loaded its own dialect already, and importing the PostgreSQL
    # dialect costs a SQLite command ~50 ms (issue 23).
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # noqa: PLC0415 - see above

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite  # noqa: PLC0415 - see above

    return sqlite.insert(table).on_conflict_do_nothing()


def get_or_create_id(connection: Connection, table: Table, key: Mapping[str, Any]) -> int:
    connection.execute(insert_ignoring_conflicts(connection, table).values(**key))
    where = and_(*(table.c[column] == value for column, value in key.items()))
    return int(connection.execute(select(table.c.id).where(where)).scalar_one())


def id_of_uuid(connection: Connection, table: Table, key: uuid.UUID, what: str) -> int:
    """The id of the submit or job `key`; `<what> <key> does not exist` if there is none."""
    found = connection.execute(select(table.c.id).where(table.c.uuid == key)).scalar_one_or_none()
    if found is None:
        raise DatabaseError(f"{what} {key} does not exist")
    return int(found)


def get_or_create_envvar_ids(
    connection: Connection, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Ids of many NAME=value pairs at once (two statements, whatever their number)."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    values = [{"name": n, "value": v} for n, v in wanted]
    connection.execute(insert_ignoring_conflicts(connection, ENVVARS), values)
    ids: dict[tuple[str, str], int] = {}
    for start in range(0, len(wanted), 400):  # stay far below SQLite's bound-parameter limit
        chunk = wanted[start : start + 400]
        rows = connection.execute(
            select(ENVVARS.c.name, ENVVARS.c.value, ENVVARS.c.id).where(
                tuple_(ENVVARS.c.name, ENVVARS.c.value).in_(chunk)
            )
        )
        ids.update({(row.name, row.value): row.id for row in rows})
    return ids


def get_or_create_envvar(db: Database, name: str, value: str) -> EnvVarRecord:
    with db.begin() as connection:
        row_id = get_or_create_id(connection, ENVVARS, {"name": name, "value": value})
    return EnvVarRecord(row_id, name, value)


def get_or_create_githash(db: Database, commit_hash: str) -> GitHashRecord:
    with db.begin() as connection:
        row_id = get_or_create_id(connection, GITHASHES, {"hash": commit_hash})
    return GitHashRecord(row_id, commit_hash)


def get_or_create_package(db: Database, name: str, version: str) -> PackageRecord:
    with db.begin() as connection:
        row_id = get_or_create_id(connection, PACKAGES, {"name": name, "version": version})
    return PackageRecord(row_id, name, version)


def get_or_create_image(db: Database, name: str) -> ImageRecord:
    with db.begin() as connection:
        row_id = get_or_create_id(connection, IMAGES, {"name": name})
    return ImageRecord(row_id, name)


def get_or_create_endpoint(db: Database, name: str) -> EndpointRecord:
    with db.begin() as connection:
        row_id = get_or_create_id(connection, ENDPOINTS, {"name": name})
        row = connection.execute(select(ENDPOINTS).where(ENDPOINTS.c.id == row_id)).one()
    return EndpointRecord(
        row.id, row.name, row.disabled, row.quarantined_until, row.consecutive_failures
    )


def get_or_create_release_store(db: Database, name: str) -> ReleaseStoreRecord:
    with db.begin() as connection:
        row_id = get_or_create_id(connection, RELEASE_STORES, {"store_name": name})
    return ReleaseStoreRecord(row_id, name)


def list_envvars(db: Database) -> list[EnvVarRecord]:
    with db.begin() as connection:
        rows = connection.execute(select(ENVVARS).order_by(ENVVARS.c.id))
        return [EnvVarRecord(row.id, row.name, row.value) for row in rows]


def list_images(db: Database) -> list[ImageRecord]:
    with db.begin() as connection:
        rows = connection.execute(select(IMAGES).order_by(IMAGES.c.id))
        return [ImageRecord(row.id, row.name) for row in rows]
