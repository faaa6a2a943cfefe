"""A database as butido (Rust) leaves it after its last migration, for the adoption tests.

The DDL is written from butido-reference.md §10.1 in the style diesel's migrations use (SERIAL ids,
PostgreSQL's default constraint names, plain REFERENCES, diesel's helper functions and migrations
table); the rows are what butido writes during builds and releases (§10.3): jobs only for scripts
that ended, their log in the stored form, artifacts only after a successful copy.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, text

from butido_py.db.adopt import BUTIDO_TABLES

#: The migrations of butido (Rust), as diesel records them (first, a few, the last).
MIGRATIONS = ("00000000000000", "20201029132821", "20201203125407", "20210222092534")

SCHEMA = """
create function diesel_set_updated_at() returns trigger as $$
begin
    if (new is distinct from old and new.updated_at is not distinct from old.updated_at) then
        new.updated_at := current_timestamp;
    end if;
    return new;
end;
$$ language plpgsql;
create function diesel_manage_updated_at(_tbl regclass) returns void as $$
begin
    execute format('create trigger set_updated_at before update on %s
                    for each row execute procedure diesel_set_updated_at()', _tbl);
end;
$$ language plpgsql;
create table __diesel_schema_migrations (
    version varchar(50) primary key not null,
    run_on timestamp not null default current_timestamp
);
create table envvars (
    id serial primary key not null, name varchar not null, value varchar not null,
    constraint unique_envvar unique (name, value));
create table githashes (id serial primary key not null, hash varchar(64) not null unique);
create table packages (
    id serial primary key not null, name varchar not null, version varchar not null,
    unique (name, version));
create table images (id serial primary key not null, name varchar not null unique);
create table endpoints (id serial primary key not null, name varchar not null unique);
create table submits (
    id serial primary key not null,
    uuid uuid not null unique,
    submit_time timestamp with time zone not null,
    requested_image_id integer references images(id) not null,
    requested_package_id integer references packages(id) not null,
    repo_hash_id integer references githashes(id) not null);
create table jobs (
    id serial primary key not null,
    submit_id integer references submits(id) not null,
    endpoint_id integer references endpoints(id) not null,
    package_id integer references packages(id) not null,
    image_id integer references images(id) not null,
    container_hash varchar not null,
    script_text text not null,
    log_text text not null,
    uuid uuid not null unique);
create index jobs_submit_idx on jobs (submit_id);
create table artifacts (
    id serial primary key not null,
    path varchar not null,
    job_id integer references jobs(id) not null,
    constraint unique_path_job unique (path, job_id));
create table job_envs (
    id serial primary key not null,
    job_id integer references jobs(id) not null,
    env_id integer references envvars(id) not null,
    constraint unique_job_env unique (job_id, env_id));
create table submit_envs (
    id serial primary key not null,
    submit_id integer references submits(id) not null,
    env_id integer references envvars(id) not null,
    constraint unique_submit_env unique (submit_id, env_id));
create table release_stores (
    id serial primary key not null, store_name varchar(255) not null unique);
create table releases (
    id serial primary key not null,
    artifact_id integer references artifacts(id) not null,
    release_date timestamp with time zone not null,
    release_store_id integer references release_stores(id) not null,
    constraint unique_release unique (artifact_id, release_date));
"""

SCRIPT = "#!/bin/bash\n### phase build\nmkdir -p /outputs\n"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def submit_uuid(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012d}")


def job_uuid(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-9000-{n:012d}")


#: job number -> (submit, package id, log, artifact paths). Ids are not consecutive on purpose
#: (rows deleted by hand over the years): the copy must keep them.
JOBS: dict[int, tuple[int, int, str, tuple[str, ...]]] = {
    # submit 1: a failed build
    11: (1, 1, "building zlib\n#BUTIDO:PHASE:build\n#BUTIDO:STATE:OK", ("zlib-1.3.tar.gz",)),
    12: (1, 2, "#BUTIDO:PHASE:build\nmake: *** [all] Error 2\n#BUTIDO:STATE:ERR:make failed", ()),
    # no state line, but /outputs was copied: butido treated it as a success
    13: (1, 3, "echo #BUTIDO:STATE:ERR is only text here\ndone", ("tool-0.3.tar.gz",)),
    # no state line and nothing copied: /outputs was missing
    14: (1, 4, "#BUTIDO:PHASE:build", ()),
    # submit 2: everything built
    21: (2, 1, "#BUTIDO:STATE:OK", ("zlib-1.3.tar.gz", "zlib-1.3.sha256")),
    22: (2, 5, "#BUTIDO:PROGRESS:50\n#BUTIDO:STATE:OK", ("app-1.0.tar.gz",)),
    # submit 3: zlib ran, then butido aborted the run before app (an outer error)
    31: (3, 1, "#BUTIDO:STATE:OK", ("zlib-1.3.tar.gz",)),
    # submit 4 has no job at all: everything reused, or aborted before the first job
}


def create_butido_schema(connection: Connection) -> None:
    connection.exec_driver_sql(SCHEMA)
    for version in MIGRATIONS:
        connection.execute(
            text("insert into __diesel_schema_migrations (version) values (:v)"), {"v": version}
        )


def seed_butido(connection: Connection) -> None:
    def run(sql: str, **params: object) -> None:
        connection.execute(text(sql), params)

    for name, value in (("CFLAGS", "-O2"), ("LANG", "C"), ("UNUSED", "x")):
        run("insert into envvars (name, value) values (:n, :v)", n=name, v=value)
    run("insert into githashes (hash) values (:h)", h=COMMIT)
    packages = [("zlib", "1.3"), ("lib", "2.0"), ("tool", "0.3"), ("broken", "1"), ("app", "1.0")]
    for name, version in packages:
        run("insert into packages (name, version) values (:n, :v)", n=name, v=version)
    run("insert into images (name) values ('debian:bookworm')")
    run("insert into endpoints (name) values ('builder-1')")
    run("insert into release_stores (store_name) values ('stable')")
    for n, root_package in ((1, 5), (2, 5), (3, 5), (4, 3)):
        run(
            "insert into submits (id, uuid, submit_time, requested_image_id, "
            "requested_package_id, repo_hash_id) values (:id, :u, :t, 1, :p, 1)",
            id=n * 10,
            u=submit_uuid(n),
            t=datetime(2023, 5, n, 12, tzinfo=UTC),
            p=root_package,
        )
    artifact_id = 100
    for n, (submit, package, log, paths) in JOBS.items():
        run(
            "insert into jobs (id, submit_id, endpoint_id, package_id, image_id, container_hash, "
            "script_text, log_text, uuid) values (:id, :s, 1, :p, 1, :c, :script, :log, :u)",
            id=n * 3,
            s=submit * 10,
            p=package,
            c=f"{n:064x}",
            script=SCRIPT,
            log=log,
            u=job_uuid(n),
        )
        run("insert into job_envs (job_id, env_id) values (:j, 1), (:j, 2)", j=n * 3)
        for path in paths:
            artifact_id += 7
            run(
                "insert into artifacts (id, path, job_id) values (:id, :path, :j)",
                id=artifact_id,
                path=path,
                j=n * 3,
            )
    # app-1.0.tar.gz of submit 2 was released twice
    for day in (3, 9):
        run(
            "insert into releases (artifact_id, release_date, release_store_id) "
            "values ((select id from artifacts where path = 'app-1.0.tar.gz'), :d, 1)",
            d=datetime(2023, 5, day, tzinfo=UTC),
        )
    # butido's ids came from sequences; make them continue after the explicit ids above
    for table in ("submits", "jobs", "artifacts"):
        run(
            f"select setval(pg_get_serial_sequence('{table}', 'id'), (select max(id) from {table}))"
        )


#: butido wrote a job only when its script had run (never for dep_failed or reused jobs).
_RAN = "endpoint_id is not null and container_hash is not null"
#: butido kept a job's whole log in `jobs.log_text`; butido_py stores it in chunks (PostgreSQL).
_LOG_TEXT = (
    "coalesce(log_text, (select string_agg(convert_from(c.bytes, 'UTF8'), '' order by c.seq) "
    "from log_chunks c where c.job_id = jobs.id and c.attempt = jobs.attempt), '') as log_text"
)


def export_as_butido(source: Engine, target: Engine, *, without: str | None = None) -> None:
    """The rows of butido_py's database `source` in butido's shape in `target` (empty): what
    butido (Rust) would have recorded of the same builds, without butido_py's additions.
    `without`: leave out the jobs of this package, as if butido had aborted before it."""
    ran = _RAN
    if without is not None:
        ran += f" and package_id not in (select id from packages where name = '{without}')"
    only_rows = {
        "jobs": f"where {ran}",
        "job_envs": f"where job_id in (select id from jobs where {ran})",
        "artifacts": f"where job_id in (select id from jobs where {ran})",
    }
    with source.connect() as reading, target.begin() as writing:
        create_butido_schema(writing)
        for table, columns in BUTIDO_TABLES.items():
            names = ", ".join(columns)
            wanted = ", ".join(
                _LOG_TEXT if (table, c) == ("jobs", "log_text") else c for c in columns
            )
            only = only_rows.get(table, "")
            rows = reading.execute(
                text(f"select {wanted} from {table} {only} order by id")
            ).mappings()
            values = ", ".join(f":{c}" for c in columns)
            for row in rows:
                writing.execute(text(f"insert into {table} ({names}) values ({values})"), dict(row))
            writing.execute(
                text(
                    f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"coalesce((select max(id) from {table}), 0) + 1, false)"
                )
            )
