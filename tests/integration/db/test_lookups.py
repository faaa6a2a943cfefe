"""Get-or-create of the lookup tables: one row per key, also when many threads race for it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import Table

from butido_py.db import lookups
from butido_py.db.database import Database
from butido_py.db.models import ENDPOINTS, ENVVARS, GITHASHES, IMAGES, PACKAGES, RELEASE_STORES
from tests.helpers.databases import count_rows


def test_get_or_create_returns_the_same_row_twice(db: Database) -> None:
    first = lookups.get_or_create_package(db, "zlib", "1.3")
    assert lookups.get_or_create_package(db, "zlib", "1.3") == first
    assert lookups.get_or_create_package(db, "zlib", "1.3.1").id != first.id
    assert lookups.get_or_create_envvar(db, "A", "b=c") == lookups.get_or_create_envvar(
        db, "A", "b=c"
    )
    assert lookups.get_or_create_githash(db, "f" * 40).hash == "f" * 40
    assert lookups.get_or_create_image(db, "debian:12") == lookups.get_or_create_image(
        db, "debian:12"
    )
    endpoint = lookups.get_or_create_endpoint(db, "ep1")
    assert (endpoint.disabled, endpoint.quarantined_until, endpoint.consecutive_failures) == (
        False,
        None,
        0,
    )
    assert lookups.get_or_create_release_store(db, "stable").name == "stable"
    assert [count_rows(db, t) for t in (PACKAGES, ENVVARS, GITHASHES, IMAGES, ENDPOINTS)] == [
        2, 1, 1, 1, 1
    ]  # fmt: skip
    assert count_rows(db, RELEASE_STORES) == 1
    assert [(i.name) for i in lookups.list_images(db)] == ["debian:12"]
    assert [(e.name, e.value) for e in lookups.list_envvars(db)] == [("A", "b=c")]


CREATORS: dict[str, tuple[Callable[[Database], object], Table]] = {
    "package": (lambda db: lookups.get_or_create_package(db, "gcc", "13"), PACKAGES),
    "envvar": (lambda db: lookups.get_or_create_envvar(db, "CC", "gcc"), ENVVARS),
    "githash": (lambda db: lookups.get_or_create_githash(db, "a" * 40), GITHASHES),
    "image": (lambda db: lookups.get_or_create_image(db, "debian:12"), IMAGES),
    "endpoint": (lambda db: lookups.get_or_create_endpoint(db, "ep"), ENDPOINTS),
    "release_store": (lambda db: lookups.get_or_create_release_store(db, "st"), RELEASE_STORES),
}


@pytest.mark.parametrize("kind", list(CREATORS))
def test_eight_threads_racing_create_one_row(db: Database, kind: str) -> None:
    create, table = CREATORS[kind]
    start = Barrier(8)

    def racer() -> object:
        start.wait()  # all threads insert at the same moment
        return create(db)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [future.result() for future in [pool.submit(racer) for _ in range(8)]]
    assert len(set(results)) == 1
    assert count_rows(db, table) == 1
