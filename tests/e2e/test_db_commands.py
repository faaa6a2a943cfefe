"""Golden tests of every `butido db` command on a seeded database, on SQLite and PostgreSQL.

The seed (tests/helpers/seed.py) has fixed uuids and times, so the outputs are exact. Both
backends must print the same bytes: tests/e2e/golden/db/<case>.txt. The golden cases run the command
tree in-process (starting a Python per case would cost a second each); table output needs a
terminal, so those cases, and the error cases, run `python -m butido_py` as a subprocess (in a pty
for tables).
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from butido_py.cli.commands.db.submits import job_tree
from butido_py.cli.context import AppContext
from butido_py.cli.main import run
from butido_py.db.database import open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import downgrade_schema, setup_schema
from butido_py.db.records import JobDependencyRecord, JobRecord
from butido_py.db.schema import KNOWN_REVISIONS, SCHEMA_REVISION
from butido_py.states import DependencyKind, JobState
from tests.e2e.golden_files import assert_golden
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.seed import jid, seed, sid

CONFIG = """\
compatibility = 1
available_phases = ["build"]
releases_root = "{root}"
[docker]
images = [{{ name = "alpine:3.19", short_name = "alp" }}]
"""


@dataclass(frozen=True)
class Done:
    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Cli:
    """Runs `python -m butido_py` against one database, as the `butido` fixture does."""

    url: str
    repo: Path
    home: Path

    def environ(self) -> dict[str, str]:
        environ = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BUTIDO_", "XDG_")) and k != "DOCKER_HOST"
        }
        environ.update({"HOME": str(self.home), "NO_COLOR": "1", "BUTIDO_DATABASE_URL": self.url})
        return environ

    def __call__(self, *args: str) -> Done:
        done = subprocess.run(
            [sys.executable, "-m", "butido_py", *args],
            cwd=self.repo,
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Done(done.returncode, done.stdout, done.stderr)

    def in_terminal(self, *args: str) -> Done:
        """stdout is a pseudo-terminal, so the table form is chosen."""
        master, slave = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "butido_py", *args],
            cwd=self.repo,
            env={**self.environ(), "COLUMNS": "200"},
            stdout=slave,
            stderr=subprocess.PIPE,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        assert process.stderr is not None
        stderr = process.stderr.read().decode()
        process.stderr.close()
        code = process.wait(timeout=120)
        return Done(code, b"".join(chunks).decode().replace("\r\n", "\n"), stderr)


def make_cli(url: str, root: Path) -> Cli:
    repo, home, releases = root / "repo", root / "home", root / "releases"
    for directory in (repo / ".git", home, releases / "stable"):
        directory.mkdir(parents=True)
    (repo / "config.toml").write_text(CONFIG.format(root=releases))
    # One released file exists locally, the other does not.
    (releases / "stable" / "app-1.0.deb").write_text("deb")
    return Cli(url, repo, home)


@pytest.fixture(scope="module", params=BACKENDS)
def cli(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> Iterator[Cli]:
    root = tmp_path_factory.mktemp("db-e2e")
    with fresh_database_url(request.param, root, postgres_url) as url:
        engine = open_engine(url)
        setup_schema(engine)
        engine.dispose()
        db = open_database(url)
        seed(db)
        db.close()
        yield make_cli(url, root)


S1, S2, S3 = (str(sid(n)) for n in (1, 2, 3))
J1, J2, J6, J9 = (str(jid(n)) for n in (1, 2, 6, 9))

#: case id -> arguments after `butido db`.
CASES: dict[str, tuple[str, ...]] = {
    "submits": ("submits",),
    "submits-csv": ("submits", "--csv", "--header"),
    "submits-csv-no-header": ("submits", "--csv", "--no-header"),
    "submits-json-limit": ("submits", "--json", "-L", "1"),
    "submits-for-pkg": ("submits", "--for-pkg", "tool", "--csv", "--header"),
    "submits-with-pkg": ("submits", "--with-pkg", "base", "--csv", "--header"),
    "submits-commit": ("submits", "--commit", "bbbb", "--csv", "--header"),
    "submits-image": ("submits", "-I", "alpine:3.19", "--csv", "--header"),
    "submits-state": ("submits", "--state", "failed", "--state", "running", "--csv", "--header"),
    "submits-kind": ("submits", "--kind", "rerun", "--json"),
    "submits-between": (
        "submits",
        "--newer-than",
        "2024-01-11",
        "--older-than",
        "2024-03-01",
        "--csv",
        "--header",
        "--no-header",
    ),
    "submit-tree": ("submit", S2),
    "submit-csv": ("submit", S1, "--csv", "--header"),
    "submit-json": ("submit", S2, "--json"),
    "jobs": ("jobs",),
    "jobs-limit": ("jobs", "-L", "2", "--csv", "--header"),
    "jobs-all-csv": ("jobs", "-L", "0", "--csv", "--no-header"),
    "jobs-of-submit-json": ("jobs", "-S", S3, "--json"),
    "jobs-state": ("jobs", "--state", "failed", "--state", "canceled", "--csv", "--header"),
    "jobs-package": ("jobs", "-p", "lib", "--csv", "--header"),
    "jobs-endpoint": ("jobs", "-e", "ep2", "--csv", "--header"),
    "jobs-image": ("jobs", "-I", "alpine:3.19", "--csv", "--header"),
    "jobs-env": ("jobs", "-E", "PKG=lib", "--csv", "--header"),
    "jobs-older": ("jobs", "--older-than", "2024-02-01", "--csv", "--header"),
    "jobs-newer": ("jobs", "--newer-than", "2024-01-15 00:00:00", "-p", "app", "--csv", "--header"),
    "job": ("job", J6, "-E", "-s", "-L", "--no-highlighting"),
    "job-plain-script": ("job", J1, "-s", "--no-line-numbers", "--no-highlighting"),
    "job-csv": ("job", J6, "--csv", "--header"),
    "job-json": ("job", J9, "--json", "-L"),
    "log-of": ("log-of", J6),
    "log-of-running": ("log-of", J9),
    "log-of-running-json": ("log-of", J9, "--json"),
    "artifacts": ("artifacts",),
    "artifacts-csv-limit": ("artifacts", "--csv", "--header", "-L", "2"),
    "artifacts-job-json": ("artifacts", "-J", J2, "--json"),
    "envvars": ("envvars", "--csv", "--header"),
    "envvars-json": ("envvars", "--json"),
    "images": ("images",),
    "images-json": ("images", "--json"),
    "releases": ("releases",),
    "releases-csv": ("releases", "--csv", "--header"),
    "releases-json-store": ("releases", "--to", "stable", "--json"),
    "releases-package": ("releases", "-p", "lib", "--csv", "--no-header"),
    "releases-older": ("releases", "--older-than", "2024-01-11", "--csv", "--header"),
}

#: Cases that run on a terminal (table form).
TERMINAL = {"submits-table": ("submits",), "jobs-table": ("jobs", "-L", "3")}


@pytest.fixture
def inline(cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """`cli`, but `inline(...)` runs `butido …` in this process (the same `run` as `main`)."""
    monkeypatch.chdir(cli.repo)
    for key in list(os.environ):
        if key.startswith(("BUTIDO_", "XDG_")):
            monkeypatch.delenv(key)
    for key, value in cli.environ().items():
        monkeypatch.setenv(key, value)

    @dataclass(frozen=True)
    class InlineCli(Cli):
        def __call__(self, *args: str) -> Done:
            app = AppContext()
            code = run(app, list(args))
            if app._database is not None:
                app._database.close()
            out = capsys.readouterr()
            return Done(code, out.out, out.err)

    return InlineCli(cli.url, cli.repo, cli.home)


@pytest.mark.parametrize("case", list(CASES))
def test_golden(inline: Cli, case: str) -> None:
    done = inline("db", *CASES[case])
    assert (done.code, done.stderr) == (0, "") or case == "log-of-running"
    releases = str(inline.repo.parent / "releases")
    assert_golden(f"db/{case}.txt", done.stdout.replace(releases, "<releases>"))


@pytest.mark.parametrize("listing", ["submits", "jobs"])
def test_a_short_image_name_filters_like_the_full_name(inline: Cli, listing: str) -> None:
    full = inline("db", listing, "-I", "alpine:3.19", "--csv")
    assert full.code == 0, full.stderr
    assert full.stdout
    assert inline("db", listing, "-I", "alp", "--csv") == full
    # A name that is not configured (any more) is filtered on as given.
    assert inline("db", listing, "-I", "debian:9", "--csv") == Done(0, "", f"no {listing} found\n")


def test_highlight_is_an_alias_of_highlighting(inline: Cli) -> None:
    for on, off in (("--highlight", "--highlighting"), ("--no-highlight", "--no-highlighting")):
        assert inline("db", "job", J6, "-s", on) == inline("db", "job", J6, "-s", off)


def test_log_of_a_running_job_says_so(inline: Cli) -> None:
    done = inline("db", "log-of", J9)
    assert done.code == 0
    assert done.stderr == f"(job {J9} is running; the log may grow)\n"


@pytest.mark.parametrize("case", list(TERMINAL))
def test_golden_table_on_a_terminal(cli: Cli, case: str) -> None:
    done = cli.in_terminal("db", *TERMINAL[case])
    assert (done.code, done.stderr) == (0, "")
    assert_golden(f"db/{case}.txt", done.stdout)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("job", str(jid(99))), 5, f"error: no job {jid(99)} in the database"),
        (("submit", str(sid(99))), 5, f"error: no submit {sid(99)} in the database"),
        (("log-of", "not-a-uuid"), 2, "is neither a UUID nor a prefix"),
        (("jobs", "--older-than", "3 lightyears"), 2, "is not a duration"),
        (("releases", "--newer-than", "2999-01-01"), 2, "is in the future"),
        (("jobs", "-E", "NOVALUE"), 2, "is not KEY=VALUE"),
        (("submits", "--with-pkg", "a", "--for-pkg", "b"), 2, "mutually exclusive"),
    ],
)
def test_errors_are_one_clear_line(
    inline: Cli, args: tuple[str, ...], code: int, message: str
) -> None:
    done = inline("db", *args)
    assert done.code == code
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("backend", BACKENDS)
def test_setup_creates_the_schema_once_and_other_commands_need_it(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    with fresh_database_url(backend, tmp_path, postgres_url) as url:
        cli = make_cli(url, tmp_path)
        if backend == "postgresql":  # a team's database is set up on purpose
            refused = cli("db", "jobs")
            assert refused.code == 5
            assert "has no butido schema" in refused.stderr
            assert "hint: run `butido db setup`" in refused.stderr
        first = cli("db", "setup")
        assert first.code == 0, first.stderr
        assert "applied migration 0001: baseline" in first.stdout
        assert f"schema is now at revision {SCHEMA_REVISION}" in first.stdout
        assert ":butido@" not in first.stdout  # the password is redacted
        again = cli("db", "setup")
        assert again.code == 0, again.stderr
        assert f"schema is up to date (revision {SCHEMA_REVISION}); nothing to do" in again.stdout
        assert "applied" not in again.stdout
        as_json = cli("db", "setup", "--json")
        assert as_json.code == 0, as_json.stderr
        report = json.loads(as_json.stdout)
        assert (report["applied"], report["revision"]) == ([], SCHEMA_REVISION)
        assert report["server"].startswith(backend)
        empty = cli("db", "jobs", "--csv", "--header")
        assert (empty.code, empty.stderr) == (0, "no jobs found\n")
        assert empty.stdout == ",".join(_JOB_COLUMNS) + "\n"


_JOB_COLUMNS = ("Submit", "Job", "Time", "Host", "Ok?", "Package", "Version", "Distro", "Type",
                "State", "Root Package", "Root Version", "Wait", "Run")  # fmt: skip


def test_a_sqlite_database_at_the_previous_revision_is_migrated_on_first_use(
    tmp_path: Path,
) -> None:
    previous = KNOWN_REVISIONS[KNOWN_REVISIONS.index(SCHEMA_REVISION) - 1]
    with fresh_database_url("sqlite", tmp_path, "") as url:
        engine = open_engine(url)
        setup_schema(engine)
        downgrade_schema(engine, previous)
        engine.dispose()
        cli = make_cli(url, tmp_path)
        done = cli("db", "submits", "--csv")
        assert done.code == 0, done.stderr
        path = url.removeprefix("sqlite:///")
        assert done.stderr.splitlines()[0] == (
            f"migrated the database {path} from revision {previous} to {SCHEMA_REVISION}"
        )
        again = cli("db", "submits", "--csv")
        assert (again.code, "migrated" in again.stderr) == (0, False)


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_engine")
def test_a_postgresql_database_at_the_previous_revision_needs_db_setup(
    tmp_path: Path, postgres_url: str
) -> None:
    previous = KNOWN_REVISIONS[KNOWN_REVISIONS.index(SCHEMA_REVISION) - 1]
    with fresh_database_url("postgresql", tmp_path, postgres_url) as url:
        engine = open_engine(url)
        setup_schema(engine)
        downgrade_schema(engine, previous)
        engine.dispose()
        done = make_cli(url, tmp_path)("db", "submits")
        assert done.code == 5
        assert f"has schema revision {previous}" in done.stderr
        assert "butido db setup" in done.stderr


def test_no_database_is_one_clear_line(tmp_path: Path) -> None:
    cli = make_cli("postgresql+psycopg://butido:secret@127.0.0.1:1/butido", tmp_path)
    done = cli("db", "jobs")
    assert done.code == 5
    error, hint = done.stderr.splitlines()
    assert error.startswith(
        "error: cannot connect to the database postgresql+psycopg://butido:***@127.0.0.1:1/butido"
    )
    assert hint.startswith("hint: ")
    assert "butido db setup" in hint
    assert "secret" not in done.stderr


def test_a_missing_sqlite_database_is_created_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "none" / "butido.sqlite"
    cli = make_cli(f"sqlite:///{path}", tmp_path)
    done = cli("db", "jobs")
    assert done.code == 0, done.stderr
    assert done.stderr.splitlines()[0] == (
        f"created the database {path} (schema revision {SCHEMA_REVISION})"
    )
    again = cli("db", "jobs")
    assert again.code == 0, again.stderr
    assert "created" not in again.stderr


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_engine")
def test_a_missing_postgresql_database_is_one_clear_line(tmp_path: Path, postgres_url: str) -> None:
    cli = make_cli(postgres_url.rsplit("/", 1)[0] + "/butido_no_such_db", tmp_path)
    done = cli("db", "submits")
    assert done.code == 5
    error, hint = done.stderr.splitlines()
    assert 'database "butido_no_such_db" does not exist' in error
    assert "the database must exist" in hint


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="sqlite3 is not installed")
def test_db_cli_opens_sqlite3_on_the_database(tmp_path: Path) -> None:
    with fresh_database_url("sqlite", tmp_path, "") as url:
        cli = make_cli(url, tmp_path)
        assert cli("db", "setup").code == 0
        done = subprocess.run(
            [sys.executable, "-m", "butido_py", "db", "cli"],
            cwd=cli.repo,
            env=cli.environ(),
            input="select count(*) from jobs;\nselect version_num from alembic_version;\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert (done.returncode, done.stdout) == (0, f"0\n{SCHEMA_REVISION}\n")


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_db_cli_opens_psql_on_the_database(tmp_path: Path, postgres_url: str) -> None:
    with fresh_database_url("postgresql", tmp_path, postgres_url) as url:
        cli = make_cli(url, tmp_path)
        assert cli("db", "setup").code == 0
        done = subprocess.run(
            [sys.executable, "-m", "butido_py", "db", "cli", "--tool", "psql"],
            cwd=cli.repo,
            env={k: v for k, v in cli.environ().items() if not k.startswith("PG")},
            input="\\pset tuples_only on\n"
            "select current_schema(), version_num from alembic_version;\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    schema = url.rsplit("search_path%3D", 1)[1]  # the test's private schema, as butido_py uses
    assert done.stdout.split() == [schema, "|", SCHEMA_REVISION]


def test_db_cli_refuses_a_client_of_the_other_database(cli: Cli) -> None:
    wrong = "psql" if cli.url.startswith("sqlite") else "sqlite3"
    done = cli("db", "cli", "--tool", wrong)
    assert done.code == 5
    assert done.stderr.startswith(f"error: {wrong} cannot open the configured ")
    assert "hint: use --tool sqlite3 for SQLite" in done.stderr


def _record(n: int) -> JobRecord:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    return JobRecord(
        id=n, uuid=jid(n), submit_uuid=sid(1), submit_time=when, package_name=f"p{n}",
        package_version="1", image="debian:12", endpoint=None, container_hash=None,
        state=JobState.PLANNED, failure_kind=None, exit_code=None, queued_at=None,
        started_at=None, finished_at=None, image_digest=None, job_key=None,
        reused_from_uuid=None, attempt=1, root_package_name="p0", root_package_version="1",
    )  # fmt: skip


def _edge(job: int, needs: int) -> JobDependencyRecord:
    return JobDependencyRecord(jid(job), jid(needs), DependencyKind.BUILD)


def test_the_submit_tree_of_a_deep_plan_is_drawn_without_recursion() -> None:
    jobs = [_record(n) for n in range(3000)]  # p0 needs p1 needs p2 … (deeper than the stack)
    rows = job_tree(jobs, [_edge(n, n + 1) for n in range(2999)])
    assert [job.id for job, _ in rows] == list(range(3000))
    assert rows[2][1] == "   └─ p2"


def test_the_submit_tree_expands_a_shared_job_once() -> None:
    # Ten layers of three jobs, each needing all three of the layer below: 3**10 paths.
    layers = [[3 * layer + i + 1 for i in range(3)] for layer in range(10)]
    jobs = [_record(n) for n in range(31)]
    edges = [_edge(0, n) for n in layers[0]]
    edges += [_edge(a, b) for upper, lower in pairwise(layers) for a in upper for b in lower]
    rows = job_tree(jobs, edges)
    assert len(rows) == 1 + len(edges)
    expanded = [job.id for job, label in rows if not label.endswith(" (above)")]
    assert sorted(expanded) == list(range(31))
    assert [label for _, label in rows[:4]] == ["p0", "├─ p1", "│  ├─ p4", "│  │  ├─ p7"]
