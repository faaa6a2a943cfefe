"""Endpoints and their health: disabled by `butido endpoint disable`, quarantined after failures.

The scheduler asks `disabled_endpoint_names` which configured endpoints must receive no job.
"""

from __future__ import annotations

from sqlalchemy import Row, select, update

from butido_py.db.database import Database
from butido_py.db.lookups import get_or_create_endpoint, get_or_create_id
from butido_py.db.models import ENDPOINTS
from butido_py.db.records import EndpointRecord

__all__ = [
    "disabled_endpoint_names",
    "get_or_create_endpoint",
    "list_endpoints",
    "set_endpoint_disabled",
]


def _record(row: Row[tuple[object, ...]]) -> EndpointRecord:
    return EndpointRecord(
        id=row.id,
        name=row.name,
        disabled=bool(row.disabled),
        quarantined_until=row.quarantined_until,
        consecutive_failures=row.consecutive_failures,
    )


def set_endpoint_disabled(db: Database, name: str, *, disabled: bool) -> EndpointRecord:
    """Disable or enable `name` (created when it never ran a job); doing it twice changes nothing.

    Enabling also lifts a quarantine and forgets the failures: the operator vouches for the host.
    """
    values: dict[str, object] = {"disabled": disabled}
    if not disabled:
        values.update(quarantined_until=None, consecutive_failures=0)
    with db.begin() as connection:
        row_id = get_or_create_id(connection, ENDPOINTS, {"name": name})
        connection.execute(update(ENDPOINTS).where(ENDPOINTS.c.id == row_id).values(**values))
        return _record(connection.execute(select(ENDPOINTS).where(ENDPOINTS.c.id == row_id)).one())


def list_endpoints(db: Database) -> list[EndpointRecord]:
    """Every endpoint the database knows, with its health, by name."""
    with db.begin() as connection:
        rows = connection.execute(select(ENDPOINTS).order_by(ENDPOINTS.c.name))
        return [_record(row) for row in rows]


def disabled_endpoint_names(db: Database) -> frozenset[str]:
    """The names of the endpoints that must receive no job."""
    with db.begin() as connection:
        rows = connection.execute(select(ENDPOINTS.c.name).where(ENDPOINTS.c.disabled.is_(True)))
        return frozenset(str(name) for name in rows.scalars())
