"""Endpoints and their health: disabled by `butido endpoint disable`, quarantined after failures.

The scheduler asks `disabled_endpoint_names` which configured endpoints must receive no job
(disabled or quarantined; its `quarantined` names the quarantined ones, with until when). A build
records each infrastructure failure of an endpoint (`record_endpoint_failure`: the consecutive
failures count up, and from `quarantine_after` on the endpoint is quarantined for a back-off that
doubles with every further failure) and each success (`record_endpoint_success`: the count starts
again at 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Row, or_, select, update

from butido_py.db.database import Database
from butido_py.db.lookups import get_or_create_endpoint, get_or_create_id
from butido_py.db.models import ENDPOINTS
from butido_py.db.records import EndpointRecord

__all__ = [
    "UnavailableEndpoints",
    "disabled_endpoint_names",
    "get_or_create_endpoint",
    "list_endpoints",
    "record_endpoint_failure",
    "record_endpoint_success",
    "set_endpoint_disabled",
]

#: The back-off never grows beyond this many doublings (300 s * 2**10 is 3.5 days).
MAX_DOUBLINGS = 10


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


class UnavailableEndpoints(frozenset[str]):
    """The names of the endpoints that must receive no job; `quarantined` says which of them
    are quarantined (and until when) rather than disabled."""

    quarantined: dict[str, EndpointRecord]

    def __new__(
        cls, disabled: Iterable[str], quarantined: Mapping[str, EndpointRecord]
    ) -> UnavailableEndpoints:
        names = super().__new__(cls, {*disabled, *quarantined})
        names.quarantined = dict(quarantined)
        return names


def disabled_endpoint_names(db: Database, *, now: datetime | None = None) -> UnavailableEndpoints:
    """The names of the endpoints that must receive no job: disabled ones (`butido endpoint
    disable`) and those whose quarantine has not expired at `now` (default: now)."""
    at = now or datetime.now(UTC)
    with db.begin() as connection:
        rows = connection.execute(
            select(ENDPOINTS).where(
                or_(ENDPOINTS.c.disabled.is_(True), ENDPOINTS.c.quarantined_until > at)
            )
        )
        records = [_record(row) for row in rows]
    return UnavailableEndpoints(
        (r.name for r in records if r.disabled),
        {r.name: r for r in records if not r.disabled},
    )


def back_off_seconds(failures: int, *, after: int, seconds: int) -> int:
    """The quarantine after `failures` consecutive failures (0: none yet): `seconds` at the
    `after`-th failure, doubled for each further one."""
    if failures < after:
        return 0
    return int(seconds * 2 ** min(failures - after, MAX_DOUBLINGS))


def record_endpoint_failure(
    db: Database, name: str, *, at: datetime, quarantine_after: int, quarantine_seconds: int
) -> EndpointRecord:
    """One more infrastructure failure of `name`; quarantines it from `quarantine_after`
    consecutive failures on. One transaction; concurrent failures each count."""
    with db.begin() as connection:
        row_id = get_or_create_id(connection, ENDPOINTS, {"name": name})
        connection.execute(
            update(ENDPOINTS)
            .where(ENDPOINTS.c.id == row_id)
            .values(consecutive_failures=ENDPOINTS.c.consecutive_failures + 1)
        )
        failures = int(
            connection.execute(
                select(ENDPOINTS.c.consecutive_failures).where(ENDPOINTS.c.id == row_id)
            ).scalar_one()
        )
        back_off = back_off_seconds(failures, after=quarantine_after, seconds=quarantine_seconds)
        if back_off > 0:
            connection.execute(
                update(ENDPOINTS)
                .where(ENDPOINTS.c.id == row_id)
                .values(quarantined_until=at + timedelta(seconds=back_off))
            )
        return _record(connection.execute(select(ENDPOINTS).where(ENDPOINTS.c.id == row_id)).one())


def record_endpoint_success(db: Database, name: str) -> None:
    """A job ran on `name` without an infrastructure failure: the count starts again (a running
    quarantine stays until it expires or `butido endpoint enable` lifts it)."""
    with db.begin() as connection:
        connection.execute(
            update(ENDPOINTS)
            .where(ENDPOINTS.c.name == name, ENDPOINTS.c.consecutive_failures != 0)
            .values(consecutive_failures=0)
        )
