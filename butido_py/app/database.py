"""`butido db setup`: create the schema, or apply pending migrations, on the configured database;
with `adopt_butido`, convert a database of butido (Rust) in place first (db/adopt.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from butido_py.config.database import redact_url
from butido_py.db.engine import ServerInfo, open_engine, server_info
from butido_py.db.migrate import SetupResult, setup_schema


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
    engine = open_engine(url)
    try:
        info = server_info(engine)
        result = setup_schema(engine, adopt_butido=adopt_butido, progress=progress)
    finally:
        engine.dispose()
    return DatabaseSetup(database=redact_url(url), server=info, schema=result)
