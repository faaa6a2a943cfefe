"""`db setup --adopt-butido`: a database of butido (Rust) converted in place, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text

from butido_py.db import logs, lookups
from butido_py.db.database import open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.db.models import ARTIFACTS, JOBS, METADATA, SUBMITS
from butido_py.db.schema import SCHEMA_REVISION
from butido_py.errors import DatabaseError
from tests.helpers.butido_rust import (
    JOBS as BUTIDO_JOBS,
)
from tests.helpers.butido_rust import (
    create_butido_schema,
    job_uuid,
    seed_butido,
    submit_uuid,
)
from tests.helpers.databases import fresh_database_url
from tests.integration.db.test_migrations import drift, tables_of

pytestmark = pytest.mark.postgres

BUTIDO_TABLES = {
    "__diesel_schema_migrations", "envvars", "githashes", "packages", "images", "endpoints",
    "submits", "jobs", "artifacts", "job_envs", "submit_envs", "release_stores", "releases",
}  # fmt: skip


def _engine(tmp_path: Path, postgres_url: str) -> Iterator[Engine]:
    with fresh_database_url("postgresql", tmp_path, postgres_url) as url:
        engine = open_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def butido_db(tmp_path: Path, postgres_url: str) -> Iterator[Engine]:
    """A database as butido (Rust) leaves it, with a few builds and releases."""
    for engine in _engine(tmp_path, postgres_url):
        with engine.begin() as connection:
            create_butido_schema(connection)
            seed_butido(connection)
        yield engine


@pytest.fixture
def fresh_db(tmp_path: Path, postgres_url: str) -> Iterator[Engine]:
    for engine in _engine(tmp_path / "fresh", postgres_url):
        setup_schema(engine)
        yield engine


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything about the schema that a difference between two databases could hide in."""
    inspector = inspect(engine)
    shape: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        columns = [
            (c["name"], str(c["type"]), c["nullable"], str(c.get("default")), c.get("comment"))
            for c in inspector.get_columns(table)
        ]
        uniques = inspector.get_unique_constraints(table)
        indexes = inspector.get_indexes(table)
        checks = inspector.get_check_constraints(table)
        shape[table] = {
            "columns": columns,
            "pk": inspector.get_pk_constraint(table)["name"],
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in uniques),
            "fks": sorted(
                (f["name"], tuple(f["constrained_columns"]), f["referred_table"], str(f["options"]))
                for f in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted((i["name"], tuple(i["column_names"])) for i in indexes),
            "checks": sorted((c["name"], c["sqltext"]) for c in checks),
            "comment": inspector.get_table_comment(table)["text"],
        }
    with engine.connect() as connection:
        shape["sequences"] = sorted(
            connection.execute(
                text("select sequence_name from information_schema.sequences "
                     "where sequence_schema = current_schema()")
            ).scalars()
        )  # fmt: skip
        shape["functions"] = sorted(
            connection.execute(
                text("select routine_name from information_schema.routines "
                     "where routine_schema = current_schema()")
            ).scalars()
        )  # fmt: skip
    return shape


def test_setup_refuses_a_butido_database_unless_asked_to_adopt_it(butido_db: Engine) -> None:
    before = snapshot(butido_db)
    with pytest.raises(DatabaseError, match=r"was created by butido \(Rust\)$") as info:
        setup_schema(butido_db)
    assert info.value.hint is not None
    assert "--adopt-butido" in info.value.hint
    assert "pg_dump" in info.value.hint
    url = butido_db.url.render_as_string(hide_password=False)
    with pytest.raises(DatabaseError, match=r"created by butido \(Rust\)") as opened:
        open_database(url)
    assert "--adopt-butido" in (opened.value.hint or "")
    assert snapshot(butido_db) == before


def test_adoption_yields_the_schema_of_an_empty_database(
    butido_db: Engine, fresh_db: Engine
) -> None:
    result = setup_schema(butido_db, adopt_butido=True)
    assert result.revision == SCHEMA_REVISION
    assert result.adopted is not None
    assert result.adopted.migrations == 4
    assert snapshot(butido_db) == snapshot(fresh_db)
    assert drift(butido_db, METADATA) == []


def test_adoption_keeps_every_row_with_its_id_and_derives_the_states(butido_db: Engine) -> None:
    with butido_db.connect() as connection:
        before = {
            table: connection.execute(text(f"select * from {table} order by id")).all()
            for table in ("envvars", "packages", "job_envs", "releases", "release_stores")
        }
    result = setup_schema(butido_db, adopt_butido=True)
    assert result.adopted is not None
    assert result.adopted.rows["jobs"] == len(BUTIDO_JOBS)
    assert result.adopted.rows["artifacts"] == 6
    assert result.adopted.rows["releases"] == 2
    assert result.adopted.jobs_by_state == {"succeeded": 5, "failed": 2}
    assert result.adopted.submits_by_state == {"failed": 2, "succeeded": 2}
    assert "__diesel_schema_migrations" not in tables_of(butido_db)
    with butido_db.connect() as connection:
        for table, rows in before.items():
            assert connection.execute(text(f"select * from {table} order by id")).all() == rows
        jobs = {
            row.uuid: row
            for row in connection.execute(
                select(JOBS.c.id, JOBS.c.uuid, JOBS.c.state, JOBS.c.failure_kind, JOBS.c.log_text)
            )
        }
        submits = dict(connection.execute(select(SUBMITS.c.uuid, SUBMITS.c.state)).all())
        artifact_ids = connection.execute(select(ARTIFACTS.c.id).order_by(ARTIFACTS.c.id))
        assert list(artifact_ids.scalars()) == [107, 114, 121, 128, 135, 142]
    expected = {
        11: ("succeeded", None), 12: ("failed", "script"), 13: ("succeeded", None),
        14: ("failed", "outputs"), 21: ("succeeded", None), 22: ("succeeded", None),
        31: ("succeeded", None),
    }  # fmt: skip
    for n, (state, failure) in expected.items():
        job = jobs[job_uuid(n)]
        assert (job.id, job.state, job.failure_kind) == (n * 3, state, failure)
        assert job.log_text == BUTIDO_JOBS[n][2]
    assert submits == {
        submit_uuid(1): "failed",  # a job failed
        submit_uuid(2): "succeeded",
        submit_uuid(3): "failed",  # jobs ran, the root package's did not
        submit_uuid(4): "succeeded",  # no job at all: nothing to go by
    }
    db = open_database(butido_db.url.render_as_string(hide_password=False))
    try:  # butido's logs are read through db/logs.py like any other
        for n in expected:
            assert logs.read_log_bytes(db, job_uuid(n)) == BUTIDO_JOBS[n][2].encode()
    finally:
        db.close()


def test_the_adopted_database_takes_new_rows_after_butidos_ids(butido_db: Engine) -> None:
    setup_schema(butido_db, adopt_butido=True)
    db = open_database(butido_db.url.render_as_string(hide_password=False))
    try:
        assert lookups.get_or_create_envvar(db, "NEW", "1").id == 4
        assert lookups.get_or_create_envvar(db, "CFLAGS", "-O2").id == 1
    finally:
        db.close()
    with butido_db.begin() as connection:
        job_id = connection.execute(
            JOBS.insert()
            .values(
                submit_id=10, package_id=1, image_id=1, script_text="", uuid=job_uuid(99),
                state="planned",
            )
            .returning(JOBS.c.id)
        ).scalar_one()  # fmt: skip
    assert job_id == 94  # butido's highest job id was 93


def test_adopting_twice_changes_nothing_the_second_time(butido_db: Engine) -> None:
    setup_schema(butido_db, adopt_butido=True)
    adopted = snapshot(butido_db)
    again = setup_schema(butido_db, adopt_butido=True)
    assert again.applied == ()
    assert again.adopted is None
    assert snapshot(butido_db) == adopted


def test_a_failed_adoption_leaves_butidos_database_as_it_was(butido_db: Engine) -> None:
    # An index of another table holds a name butido_py's schema needs: the migrations fail
    # after butido's tables were already renamed.
    with butido_db.begin() as connection:
        connection.execute(text("create table notes (x integer)"))
        connection.execute(text("create index ix_jobs_state on notes (x)"))
    before = snapshot(butido_db)
    with pytest.raises(DatabaseError, match="ix_jobs_state"):
        setup_schema(butido_db, adopt_butido=True)
    assert snapshot(butido_db) == before
    with butido_db.connect() as connection:
        assert connection.execute(text("select count(*) from jobs")).scalar() == len(BUTIDO_JOBS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "delete from __diesel_schema_migrations where version = '20210222092534'",
            "migration 20210222092534 is not applied",
        ),
        ("alter table submits add column tree jsonb", "submits has column.* butido dropped.*tree"),
        ("alter table jobs drop column log_text", "jobs lacks column.* log_text"),
        ("drop table releases", "table releases is missing"),
        ("create table butido_rust_jobs (x integer)", "butido_rust_jobs are in the way"),
    ],
    ids=["older-migration", "dropped-column-kept", "missing-column", "missing-table", "in-the-way"],
)
def test_a_schema_that_is_not_butidos_last_is_refused(
    butido_db: Engine, change: str, message: str
) -> None:
    with butido_db.begin() as connection:
        connection.execute(text(change))
    before = snapshot(butido_db)
    with pytest.raises(DatabaseError, match=message) as info:
        setup_schema(butido_db, adopt_butido=True)
    assert "\n" not in str(info.value)
    assert "butido (Rust) apply all its migrations" in (info.value.hint or "")
    assert snapshot(butido_db) == before


def test_a_butido_migration_newer_than_known_is_refused(butido_db: Engine) -> None:
    with butido_db.begin() as connection:
        connection.execute(
            text("insert into __diesel_schema_migrations (version) values ('20240101000000')")
        )
    with pytest.raises(DatabaseError, match="20240101000000, newer than the last one"):
        setup_schema(butido_db, adopt_butido=True)
    assert "__diesel_schema_migrations" in tables_of(butido_db)


def test_a_diesel_table_in_sqlite_is_not_butidos(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("create table __diesel_schema_migrations (version text)"))
        with pytest.raises(DatabaseError, match="butido used PostgreSQL only"):
            setup_schema(engine, adopt_butido=True)
    finally:
        engine.dispose()
