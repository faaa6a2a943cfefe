"""`db setup`, the schema check, the migration round trip, one test per migration and the
models/migrations drift check."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, inspect, text

from butido_py.db import logs
from butido_py.db.database import open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import downgrade_schema, head_revision, migrations_dir, setup_schema
from butido_py.db.models import METADATA
from butido_py.db.schema import KNOWN_REVISIONS, SCHEMA_REVISION
from butido_py.errors import DatabaseError
from tests.helpers.databases import fresh_database_url

TABLES = {
    "envvars", "githashes", "packages", "images", "endpoints", "submits", "jobs", "artifacts",
    "job_envs", "submit_envs", "release_stores", "releases", "job_dependencies",
    "job_input_artifacts", "rebuild_results", "job_attempts", "endpoint_leases", "slot_requests",
    "log_chunks",
    "groups",
}  # fmt: skip


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    engine = open_engine(empty_url)
    yield engine
    engine.dispose()


def drift(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def tables(engine: Engine) -> set[str]:
    return tables_of(engine) - {"alembic_version"}


def tables_of(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_the_schema_revision_constant_is_alembics_head() -> None:
    assert head_revision() == SCHEMA_REVISION
    assert KNOWN_REVISIONS[-1] == SCHEMA_REVISION
    assert (migrations_dir() / "env.py").is_file()


def test_setup_creates_everything_and_is_idempotent(engine: Engine) -> None:
    first = setup_schema(engine)
    assert [m.revision for m in first.applied] == list(KNOWN_REVISIONS)
    assert first.revision == SCHEMA_REVISION
    assert tables(engine) == TABLES
    second = setup_schema(engine)
    assert second.applied == ()
    assert tables(engine) == TABLES


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    setup_schema(engine)
    assert drift(engine, METADATA) == []


def test_the_drift_check_notices_a_model_change(engine: Engine) -> None:
    setup_schema(engine)
    changed = MetaData()
    for table in METADATA.tables.values():
        table.to_metadata(changed)
    changed.tables["jobs"].append_column(Column("priority", Integer))
    differences = drift(engine, changed)
    assert len(differences) == 1
    assert "priority" in repr(differences[0])


def test_round_trip_down_to_base_and_up_again(engine: Engine) -> None:
    setup_schema(engine)
    downgrade_schema(engine, "base")
    assert tables(engine) == set()
    again = setup_schema(engine)
    assert [m.revision for m in again.applied] == list(KNOWN_REVISIONS)
    assert drift(engine, METADATA) == []


def test_0002_keeps_the_recorded_builds_and_adds_job_attempts(engine: Engine) -> None:
    setup_schema(engine)
    downgrade_schema(engine, "0001")
    assert "job_attempts" not in tables(engine)
    with engine.begin() as connection:
        connection.execute(text("insert into images (name) values ('debian:bookworm')"))
    upgraded = setup_schema(engine)
    assert [m.revision for m in upgraded.applied] == list(KNOWN_REVISIONS[1:])
    assert "job_attempts" in tables(engine)
    with engine.connect() as connection:
        names = connection.execute(text("select name from images")).scalars().all()
    assert names == ["debian:bookworm"]
    assert drift(engine, METADATA) == []


def test_commands_refuse_a_missing_schema_naming_db_setup(empty_url: str) -> None:
    with pytest.raises(DatabaseError, match="has no butido schema") as info:
        open_database(empty_url)
    assert info.value.hint is not None
    assert "butido db setup" in info.value.hint


def test_commands_do_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "none" / "butido.sqlite"
    with pytest.raises(DatabaseError, match=f"the database file {path} does not exist") as info:
        open_database(f"sqlite:///{path}")
    assert info.value.hint is not None
    assert "butido db setup" in info.value.hint
    assert not path.parent.exists()


def test_commands_refuse_an_older_schema_naming_db_setup(engine: Engine, empty_url: str) -> None:
    setup_schema(engine)
    downgrade_schema(engine, KNOWN_REVISIONS[-2])
    older, newest = KNOWN_REVISIONS[-2:]
    with pytest.raises(
        DatabaseError, match=rf"has schema revision {older}, but .* needs {newest}"
    ) as info:
        open_database(empty_url)
    assert info.value.hint is not None
    assert "butido db setup" in info.value.hint


def test_commands_and_setup_refuse_a_schema_from_a_newer_version(
    engine: Engine, empty_url: str
) -> None:
    setup_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("update alembic_version set version_num = '9999'"))
    for attempt in (lambda: open_database(empty_url), lambda: setup_schema(engine)):
        with pytest.raises(DatabaseError, match="revision 9999, which this butido_py") as info:
            attempt()
        assert info.value.hint == "upgrade butido_py"


@pytest.mark.postgres
def test_concurrent_setups_apply_the_migration_once(tmp_path: Path, postgres_url: str) -> None:
    """Only PostgreSQL serialises `db setup` runs (advisory lock); SQLite is single-user."""
    with fresh_database_url("postgresql", tmp_path, postgres_url) as url:
        engine = open_engine(url)
        try:
            # Counts of applied migrations: one run applies all of them, the others none.
            assert sorted(_set_up_concurrently(engine, 3)) == [0, 0, len(KNOWN_REVISIONS)]
        finally:
            engine.dispose()


def _set_up_concurrently(engine: Engine, runs: int) -> list[int]:
    results: list[int] = []
    errors: list[BaseException] = []

    def set_up() -> None:
        try:
            results.append(len(setup_schema(engine).applied))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=set_up) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.mark.parametrize(
    ("tables", "message", "hint"),
    [
        (
            ("__diesel_schema_migrations", "envvars"),
            "was created by butido \\(Rust\\)",
            "--adopt-butido",
        ),
        (("envvars", "jobs"), "already has the table\\(s\\) envvars, jobs", "empty database"),
    ],
    ids=["butido-rust", "unrelated-tables"],
)
def test_setup_refuses_tables_it_did_not_create(
    engine: Engine, tables: tuple[str, ...], message: str, hint: str
) -> None:
    with engine.begin() as connection:
        for table in tables:
            connection.execute(text(f'create table "{table}" (version varchar(50) primary key)'))
    with pytest.raises(DatabaseError, match=message) as info:
        setup_schema(engine)
    assert info.value.hint is not None
    assert hint in info.value.hint
    assert tables_of(engine) == set(tables)


def test_setup_reports_a_refused_statement_in_one_line(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("create table other (x integer)"))
        connection.execute(text("create index ix_jobs_state on other (x)"))  # a name it needs
    with pytest.raises(DatabaseError, match=r"db setup failed on .*: .*ix_jobs_state") as info:
        setup_schema(engine)
    assert "\n" not in str(info.value)
    assert info.value.hint is not None
    assert "create tables" in info.value.hint


def test_0003_adds_job_key_documents_to_recorded_jobs(engine: Engine) -> None:
    setup_schema(engine)
    downgrade_schema(engine, "0002")
    assert "job_key_document" not in {c["name"] for c in inspect(engine).get_columns("jobs")}
    upgraded = setup_schema(engine)
    assert [m.revision for m in upgraded.applied] == list(KNOWN_REVISIONS[2:])
    assert "job_key_document" in {c["name"] for c in inspect(engine).get_columns("jobs")}
    assert drift(engine, METADATA) == []


def test_0004_adds_endpoint_leases_slot_requests_and_submit_priority(engine: Engine) -> None:
    setup_schema(engine)
    downgrade_schema(engine, "0003")
    assert "endpoint_leases" not in tables(engine)
    assert "priority" not in {c["name"] for c in inspect(engine).get_columns("submits")}
    upgraded = setup_schema(engine)
    assert [m.revision for m in upgraded.applied] == list(KNOWN_REVISIONS[3:])
    assert {"endpoint_leases", "slot_requests"} <= tables(engine)
    assert "priority" in {c["name"] for c in inspect(engine).get_columns("submits")}
    assert drift(engine, METADATA) == []


def test_0005_adds_log_chunks_and_keeps_recorded_logs_readable(
    engine: Engine, empty_url: str
) -> None:
    """Logs recorded before 0005 stay in jobs.log_text, and db/logs.py reads them from there."""
    setup_schema(engine)
    downgrade_schema(engine, "0004")
    assert "log_chunks" not in tables(engine)
    with engine.begin() as connection:
        for statement in SEED_0004:
            connection.execute(text(statement), {"log": LOG_0004})
    upgraded = setup_schema(engine)
    assert [m.revision for m in upgraded.applied] == list(KNOWN_REVISIONS[4:])
    assert drift(engine, METADATA) == []
    db = open_database(empty_url)
    try:
        job = uuid.UUID(int=1)
        assert logs.read_log_bytes(db, job) == LOG_0004.encode()
        logs.append_chunk(db, job, b"more")  # chunks, once there, are the log
        assert logs.read_log_bytes(db, job) == b"more"
    finally:
        db.close()


LOG_0004 = "#BUTIDO:PHASE:build\nmake\n#BUTIDO:STATE:OK"
SEED_0004 = (
    "insert into images (id, name) values (1, 'debian')",
    "insert into packages (id, name, version) values (1, 'a', '1')",
    "insert into githashes (id, hash) values (1, 'abc')",
    (
        "insert into submits (id, uuid, submit_time, requested_image_id, requested_package_id, "
        "repo_hash_id, state, kind, dirty) values (1, '00000000000000000000000000000002', "
        "'2024-01-01 00:00:00', 1, 1, 1, 'succeeded', 'build', false)"
    ),
    (
        "insert into jobs (id, submit_id, package_id, image_id, script_text, log_text, uuid, "
        "state, attempt) values (1, 1, 1, 1, 's', :log, '00000000000000000000000000000001', "
        "'succeeded', 1)"
    ),
)


def test_0006_adds_groups_and_keeps_submits_without_one(engine: Engine) -> None:
    setup_schema(engine)
    downgrade_schema(engine, "0005")
    assert "groups" not in tables(engine)
    assert "group_id" not in {c["name"] for c in inspect(engine).get_columns("submits")}
    upgraded = setup_schema(engine)
    assert [m.revision for m in upgraded.applied] == list(KNOWN_REVISIONS[5:])
    assert "groups" in tables(engine)
    assert "group_id" in {c["name"] for c in inspect(engine).get_columns("submits")}
    assert drift(engine, METADATA) == []
