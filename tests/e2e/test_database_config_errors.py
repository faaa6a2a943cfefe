"""Database configuration mistakes, each run as a whole `butido` process: exit 5, one `error:`
line (and its hint), no traceback, and the password never in the output (docs/database.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import make_url, text

from butido_py.db.engine import open_engine, server_info
from butido_py.errors import ButidoError, ExitCode
from tests.e2e.conftest import Runner
from tests.plugins.services import service_missing

SECRET = "s3cr#tPw"
ENCODED = quote(SECRET, safe="")


@dataclass(frozen=True)
class Mistake:
    name: str
    #: The database_url, given the test's tmp_path and the PostgreSQL test URL.
    url: Callable[[Path, str], str]
    #: Words the error line must contain.
    says: tuple[str, ...]


def _not_sqlite(tmp_path: Path, _pg: str) -> str:
    path = tmp_path / "notes.txt"
    path.write_text("this is not a database\n" * 100)
    return f"sqlite:///{path}"


def _pg_with(password: str, *, port: int | None = None) -> Callable[[Path, str], str]:
    def url(_tmp: Path, pg: str) -> str:
        parsed = make_url(pg)
        return (
            f"postgresql://{parsed.username}:{password}@{parsed.host}:{port or parsed.port}/"
            f"{parsed.database}"
        )

    return url


MISTAKES = [
    Mistake("malformed", lambda _t, _p: f"postgresql://u:{SECRET}@host:port/db", ("database_url",)),
    Mistake("unencoded password", lambda _t, _p: f"postgresql://u:p@ss{SECRET}@host/db", ("url",)),
    Mistake("unknown driver", lambda _t, _p: f"mysql://u:{SECRET}@host/db", ("mysql",)),
    Mistake("no scheme", lambda _t, _p: f"u:{SECRET}@host/db", ("database_url",)),
    Mistake("not SQLite", _not_sqlite, ("not a SQLite database",)),
    Mistake("unreachable", _pg_with(ENCODED, port=1), ("cannot connect",)),
    Mistake("wrong password", _pg_with(ENCODED), ("cannot connect",)),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_database_mistake_is_one_line_without_the_secret(
    butido: Runner, tmp_path: Path, postgres_url: str, mistake: Mistake
) -> None:
    url = mistake.url(tmp_path, postgres_url)
    done = butido("db", "submits", env={"BUTIDO_DATABASE_URL": url})
    _assert_one_line(done.code, done.stdout, done.stderr, mistake.says)


def _assert_one_line(code: int, stdout: str, stderr: str, says: tuple[str, ...]) -> None:
    assert code == ExitCode.DATABASE, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert len([line for line in lines if not line.startswith(("error:", "hint:"))]) == 0, stderr
    for word in says:
        assert word in errors[0], errors[0]
    assert SECRET not in stdout + stderr
    assert "ss#w" not in stdout + stderr
    assert ENCODED not in stdout + stderr


@pytest.fixture
def role_without_rights(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL role that may log in but not read the test database's schema."""
    admin = open_engine(postgres_url)
    try:
        server_info(admin)
    except ButidoError as error:
        admin.dispose()
        service_missing("PostgreSQL", error)
    role = f"norights_{uuid.uuid4().hex[:8]}"
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as connection:
            connection.execute(text(f"create role {role} login password '{SECRET}'"))
            connection.execute(text(f"create schema {schema}"))
            connection.execute(text(f"create table {schema}.alembic_version (version_num text)"))
            connection.execute(text(f"revoke all on schema {schema} from public"))
            # It sees the schema's tables but may read none of them.
            connection.execute(text(f"grant usage on schema {schema} to {role}"))
    except Exception as error:  # noqa: BLE001 - the test role may not create roles
        admin.dispose()
        pytest.skip(f"cannot create a role: {error}")
    parsed = make_url(postgres_url)
    try:
        yield (
            f"postgresql://{role}:{ENCODED}@{parsed.host}:{parsed.port}/{parsed.database}"
            f"?options=-csearch_path%3D{schema}"
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"drop schema {schema} cascade"))
            connection.execute(text(f"drop role {role}"))
        admin.dispose()


@pytest.mark.postgres
def test_a_role_without_rights_is_one_line(butido: Runner, role_without_rights: str) -> None:
    done = butido("db", "submits", env={"BUTIDO_DATABASE_URL": role_without_rights})
    _assert_one_line(done.code, done.stdout, done.stderr, ("permission",))


def test_config_show_masks_the_password_in_the_url(butido: Runner) -> None:
    url = f"postgresql://u:{SECRET}@db.example/butido"
    done = butido("config", "show", env={"BUTIDO_DATABASE_URL": url})
    assert done.code == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert "postgresql://u:***@db.example/butido" in done.stdout


def test_config_check_reports_a_malformed_url(butido: Runner) -> None:
    url = f"postgresql://u:p@ss{SECRET}@host/db"
    done = butido("config", "check", env={"BUTIDO_DATABASE_URL": url})
    assert done.code == ExitCode.CONFIG, done.stderr
    assert "database_url" in done.stderr
    assert SECRET not in done.stdout + done.stderr
