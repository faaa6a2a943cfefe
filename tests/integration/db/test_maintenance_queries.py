"""Release candidates and removal, endpoint health and row counts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from butido_py.db import lookups
from butido_py.db.counts import count_jobs_by_state, count_rows
from butido_py.db.database import Database
from butido_py.db.endpoints import (
    disabled_endpoint_names,
    get_or_create_endpoint,
    list_endpoints,
    set_endpoint_disabled,
)
from butido_py.db.models import ENDPOINTS, METADATA
from butido_py.db.releases import (
    delete_releases,
    record_release,
    release_candidates,
    releases_of_package,
)
from butido_py.states import JobState
from tests.helpers.seed import seed, sid


def test_release_candidates_match_exactly_and_know_their_store(db: Database) -> None:
    seed(db)
    found = release_candidates(db, sid(1), "stable")
    assert [(c.package_name, c.package_version, c.path) for c in found] == [
        ("base", "0.1", "base-0.1.tar.gz"),
        ("lib", "2.0", "lib-2.0.tar.gz"),
        ("tool", "0.3", "tool-0.3.rpm"),
        ("app", "1.0", "app-1.0.deb"),
    ]
    released = {c.path: c.released_at for c in found}
    assert released["app-1.0.deb"] == datetime(2024, 1, 11, 9, tzinfo=UTC)
    assert released["lib-2.0.tar.gz"] is None  # released to "testing", not "stable"
    assert [c.path for c in release_candidates(db, sid(1), "x", package="lib")] == [
        "lib-2.0.tar.gz"
    ]
    assert release_candidates(db, sid(1), "x", package="lib", version="2.%") == []
    assert release_candidates(db, sid(1), "x", package="lib", version="2") == []
    assert release_candidates(db, sid(2), "stable") == []  # nothing built: reused or failed


def test_releases_of_a_version_newest_first_and_their_removal(db: Database) -> None:
    seed(db)
    app = release_candidates(db, sid(1), "stable", package="app")[0]
    newer = record_release(db, app.artifact_id, "stable", at=datetime(2024, 6, 1, tzinfo=UTC))
    record_release(db, app.artifact_id, "testing", at=datetime(2024, 6, 2, tzinfo=UTC))
    found = releases_of_package(db, "stable", "app", "1.0")
    assert [r.id for r in found][:1] == [newer.id]
    assert [r.release_date for r in found] == [
        newer.release_date,
        datetime(2024, 1, 11, 9, tzinfo=UTC),
    ]
    assert releases_of_package(db, "stable", "app", "1.%") == []
    assert delete_releases(db, [r.id for r in found]) == 2
    assert delete_releases(db, []) == 0
    assert releases_of_package(db, "stable", "app", "1.0") == []
    assert len(releases_of_package(db, "testing", "app", "1.0")) == 1


def test_endpoint_disable_enable(db: Database) -> None:
    assert disabled_endpoint_names(db) == frozenset()
    off = set_endpoint_disabled(db, "ep1", disabled=True)
    assert (off.name, off.disabled, off.consecutive_failures) == ("ep1", True, 0)
    assert set_endpoint_disabled(db, "ep1", disabled=True).id == off.id  # idempotent
    get_or_create_endpoint(db, "ep2")
    assert disabled_endpoint_names(db) == frozenset({"ep1"})
    with db.begin() as connection:  # a quarantine after failures (written by the scheduler)
        connection.execute(
            ENDPOINTS.update()
            .where(ENDPOINTS.c.name == "ep1")
            .values(consecutive_failures=3, quarantined_until=datetime(2030, 1, 1, tzinfo=UTC))
        )
    assert [(e.name, e.disabled, e.consecutive_failures) for e in list_endpoints(db)] == [
        ("ep1", True, 3),
        ("ep2", False, 0),
    ]
    on = set_endpoint_disabled(db, "ep1", disabled=False)
    assert (on.disabled, on.quarantined_until, on.consecutive_failures) == (False, None, 0)
    assert disabled_endpoint_names(db) == frozenset()


def test_counts(db: Database) -> None:
    empty = count_rows(db)
    assert sorted(empty) == sorted(METADATA.tables)
    assert set(empty.values()) == {0}
    assert set(count_jobs_by_state(db).values()) == {0}
    seed(db)
    lookups.get_or_create_release_store(db, "unused")
    counts = count_rows(db)
    assert (counts["submits"], counts["jobs"], counts["artifacts"]) == (3, 9, 4)
    assert (counts["releases"], counts["release_stores"], counts["endpoints"]) == (2, 3, 2)
    by_state = count_jobs_by_state(db)
    assert list(by_state) == list(JobState)
    assert {s: n for s, n in by_state.items() if n} == {
        JobState.SUCCEEDED: 4,
        JobState.REUSED: 1,
        JobState.FAILED: 1,
        JobState.DEP_FAILED: 1,
        JobState.CANCELED: 1,
        JobState.RUNNING: 1,
    }
