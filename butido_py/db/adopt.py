"""Adopting a database of butido (Rust) in place: `butido db setup --adopt-butido`.

butido's tables (butido-reference.md §10.1, after its last migration) are a subset of ours, with
the same names and columns. Adoption happens in one PostgreSQL transaction, so a failure at any
step leaves butido's database exactly as it was:

1. butido's schema is checked: every table with exactly butido's columns, butido's last migration
   applied and none that butido_py does not know;
2. butido's tables (and their id sequences) are renamed out of the way (`butido_rust_<table>`);
3. butido_py's schema is created by the migrations, as on an empty database;
4. every row is copied over with its id (so UUIDs, ids and links stay what they were), the
   sequences continue after the highest id, and what butido never recorded is derived
   (`derive_*` below) or left NULL;
5. butido's tables, its migrations table and diesel's helper functions are dropped.

Afterwards the database belongs to butido_py; butido (Rust) cannot write to it any more (its
migrations table is gone, so it would refuse to start rather than write rows butido_py's
constraints reject).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, inspect, text

from butido_py.errors import DatabaseError
from butido_py.states import FailureKind, JobState, SubmitKind, SubmitState

#: butido's (Rust) migrations table; its presence marks a butido database.
DIESEL_TABLE = "__diesel_schema_migrations"
#: The newest migration of butido (Rust) (`2021-02-22-092534_add-release-stores`).
BUTIDO_LAST_MIGRATION = "20210222092534"
#: Where butido's tables wait while their rows are copied.
OLD_PREFIX = "butido_rust_"
ADOPT_HINT = (
    "back it up first (pg_dump), then run `butido db setup --adopt-butido` to convert it in "
    "place; butido (Rust) cannot use it afterwards"
)

#: butido's tables after its last migration, in an order that respects their foreign keys, with
#: their columns. Every column keeps its name and meaning in butido_py's schema.
BUTIDO_TABLES: dict[str, tuple[str, ...]] = {
    "envvars": ("id", "name", "value"),
    "githashes": ("id", "hash"),
    "packages": ("id", "name", "version"),
    "images": ("id", "name"),
    "endpoints": ("id", "name"),
    "release_stores": ("id", "store_name"),
    "submits": ("id", "uuid", "submit_time", "requested_image_id", "requested_package_id",
                "repo_hash_id"),
    "jobs": ("id", "submit_id", "endpoint_id", "package_id", "image_id", "container_hash",
             "script_text", "log_text", "uuid"),
    "artifacts": ("id", "path", "job_id"),
    "job_envs": ("id", "job_id", "env_id"),
    "submit_envs": ("id", "submit_id", "env_id"),
    "releases": ("id", "artifact_id", "release_date", "release_store_id"),
}  # fmt: skip

#: butido decided a job's success from its log when it ran (butido-reference.md §6.4): any
#: `#BUTIDO:STATE:ERR` line failed it; otherwise it copied /outputs, and a row in `artifacts`
#: exists only when that copy worked. The stored log holds markers only at the start of a line.
_ERR_LINE = r"(^|\n)#BUTIDO:STATE:ERR(:|\n|$)"


@dataclass(frozen=True, slots=True)
class AdoptionSummary:
    """What was taken over from butido (Rust)."""

    migrations: int
    rows: dict[str, int]
    jobs_by_state: dict[str, int]
    submits_by_state: dict[str, int]


def is_butido_database(connection: Connection) -> bool:
    return inspect(connection).has_table(DIESEL_TABLE)


def check_butido_schema(connection: Connection, where: str) -> int:
    """Refuse anything but butido's schema after its last migration; the number of its
    applied migrations."""
    if connection.dialect.name != "postgresql":
        raise DatabaseError(
            f"the database {where} has butido's (Rust) migrations table, but butido used "
            f"PostgreSQL only",
            hint="give butido_py an empty database, or the PostgreSQL database butido used",
        )
    versions = [
        str(v) for v in connection.execute(text(f'select version from "{DIESEL_TABLE}"')).scalars()
    ]
    newer = sorted(v for v in versions if v > BUTIDO_LAST_MIGRATION)
    if newer:
        raise DatabaseError(
            f"the butido (Rust) database {where} has migration(s) {', '.join(newer)}, newer than "
            f"the last one butido_py knows ({BUTIDO_LAST_MIGRATION})",
            hint="adopt it with a butido_py that knows them, or keep using butido (Rust) on it",
        )
    problems = []
    if BUTIDO_LAST_MIGRATION not in versions:
        problems.append(f"butido's migration {BUTIDO_LAST_MIGRATION} is not applied")
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    for table, columns in BUTIDO_TABLES.items():
        if table not in existing:
            problems.append(f"table {table} is missing")
            continue
        found = {c["name"] for c in inspector.get_columns(table)}
        missing = [c for c in columns if c not in found]
        extra = sorted(found - set(columns))
        if missing:
            problems.append(f"{table} lacks column(s) {', '.join(missing)}")
        if extra:
            problems.append(
                f"{table} has column(s) butido dropped or never had: {', '.join(extra)}"
            )
    clash = sorted(t for t in existing if t.startswith(OLD_PREFIX) or t == "alembic_version")
    if clash:
        problems.append(f"table(s) {', '.join(clash)} are in the way")
    if problems:
        raise DatabaseError(
            f"the butido (Rust) database {where} is not at butido's last migration: "
            + "; ".join(problems),
            hint="let butido (Rust) apply all its migrations first (its `db setup`), then adopt",
        )
    return len(versions)


def move_butido_tables_aside(connection: Connection) -> None:
    """Step 2: butido's tables and their id sequences get the `butido_rust_` prefix, so that
    butido_py's schema can be created under the same names."""
    for table in BUTIDO_TABLES:
        sequence = connection.execute(
            text("select pg_get_serial_sequence(:table, 'id')"), {"table": table}
        ).scalar()
        connection.execute(text(f'alter table "{table}" rename to "{OLD_PREFIX}{table}"'))
        if sequence:
            name = str(sequence).rsplit(".", 1)[-1].strip('"')
            connection.execute(text(f"alter sequence {sequence} rename to {OLD_PREFIX}{name}"))


def copy_butido_rows(
    connection: Connection, migrations: int, progress: Callable[[str], None]
) -> AdoptionSummary:
    """Steps 4 and 5: the rows into butido_py's tables (created by the migrations meanwhile),
    then butido's tables away. `progress` hears of each table as it is copied."""
    rows: dict[str, int] = {}
    # butido has no index that starts with artifacts.job_id; the jobs' states ask it per job.
    connection.execute(
        text(f"create index {OLD_PREFIX}artifacts_job on {OLD_PREFIX}artifacts (job_id)")
    )
    for table, columns in BUTIDO_TABLES.items():
        derived = _DERIVED.get(table, {})
        names = ", ".join((*columns, *derived))
        values = ", ".join((*(f"old.{c}" for c in columns), *derived.values()))
        progress(f"copying {table}")
        statement = (
            f'insert into "{table}" ({names}) select {values} from "{OLD_PREFIX}{table}" old'
        )
        params = {"err_line": _ERR_LINE} if ":err_line" in statement else {}
        result = connection.execute(text(statement), params)
        rows[table] = result.rowcount
        connection.execute(
            text(
                f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                f'coalesce((select max(id) from "{table}"), 0) + 1, false)'
            )
        )
    # A submit failed when a job of it failed, or when jobs ran but its root package's job did
    # not finish: butido aborted the run (a job that ran forces its dependents to run, so a
    # reused root means nothing ran). A submit without any job is ambiguous (all reused, or
    # aborted before the first job); it stays succeeded.
    connection.execute(
        text(
            "update submits set state = :failed where exists (select 1 from jobs "
            "where jobs.submit_id = submits.id and jobs.state = :failed) "
            "or (exists (select 1 from jobs where jobs.submit_id = submits.id) "
            "and not exists (select 1 from jobs where jobs.submit_id = submits.id "
            "and jobs.package_id = submits.requested_package_id and jobs.state = :succeeded))"
        ),
        {"failed": SubmitState.FAILED.value, "succeeded": JobState.SUCCEEDED.value},
    )
    for table in reversed(BUTIDO_TABLES):
        connection.execute(text(f'drop table "{OLD_PREFIX}{table}"'))
    connection.execute(text(f'drop table "{DIESEL_TABLE}"'))
    connection.execute(text("drop function if exists diesel_manage_updated_at(regclass)"))
    connection.execute(text("drop function if exists diesel_set_updated_at()"))
    return AdoptionSummary(
        migrations=migrations,
        rows=rows,
        jobs_by_state=_count_by(connection, "jobs"),
        submits_by_state=_count_by(connection, "submits"),
    )


def _count_by(connection: Connection, table: str) -> dict[str, int]:
    result = connection.execute(text(f"select state, count(*) from {table} group by state"))
    return {str(state): int(count) for state, count in result.all()}


_FAILED_BY_LOG = "old.log_text ~ :err_line"
_HAS_ARTIFACTS = f"exists (select 1 from {OLD_PREFIX}artifacts a where a.job_id = old.id)"

#: Columns butido never had, per table: SQL over the old row (`old`). Columns not named here
#: take their default or NULL (times, exit codes, digests, job keys: butido did not record them).
_DERIVED: dict[str, dict[str, str]] = {
    "submits": {
        "kind": f"'{SubmitKind.BUILD.value}'",
        # Corrected to failed after the jobs are in (copy_butido_rows).
        "state": f"'{SubmitState.SUCCEEDED.value}'",
        "dirty": "false",
    },
    "jobs": {
        "state": f"case when {_FAILED_BY_LOG} then '{JobState.FAILED.value}' "
        f"when {_HAS_ARTIFACTS} then '{JobState.SUCCEEDED.value}' "
        f"else '{JobState.FAILED.value}' end",
        "failure_kind": f"case when {_FAILED_BY_LOG} then '{FailureKind.SCRIPT.value}' "
        f"when {_HAS_ARTIFACTS} then null else '{FailureKind.OUTPUTS.value}' end",
    },
}
