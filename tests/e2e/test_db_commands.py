# ruff: noqa: E501 - golden outputs are as wide as the tables they show
"""Golden tests of every `butido db` command on a seeded database, on SQLite and PostgreSQL.

The seed (tests/integration/db/seed.py) has fixed uuids and times, so the outputs are exact. Both
backends must print the same bytes. The golden cases run the command tree in-process (starting a
Python per case would cost a second each); table output needs a terminal, so those cases, and the
error cases, run `python -m butido_py` as a subprocess (in a pty for tables).
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
from butido_py.db.migrate import setup_schema
from butido_py.db.records import JobDependencyRecord, JobRecord
from butido_py.db.schema import SCHEMA_REVISION
from butido_py.states import DependencyKind, JobState
from tests.integration.db.databases import BACKENDS, fresh_database_url
from tests.integration.db.seed import jid, seed, sid

CONFIG = 'compatibility = 1\navailable_phases = ["build"]\nreleases_root = "{root}"\n'


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
    "submits-csv": ("submits", "--csv"),
    "submits-csv-no-header": ("submits", "--csv", "--no-header"),
    "submits-json-limit": ("submits", "--json", "-L", "1"),
    "submits-for-pkg": ("submits", "--for-pkg", "tool", "--csv"),
    "submits-with-pkg": ("submits", "--with-pkg", "base", "--csv"),
    "submits-commit": ("submits", "--commit", "bbbb", "--csv"),
    "submits-image": ("submits", "-I", "alpine:3.19", "--csv"),
    "submits-state": ("submits", "--state", "failed", "--state", "running", "--csv"),
    "submits-kind": ("submits", "--kind", "rerun", "--json"),
    "submits-between": (
        "submits",
        "--newer-than",
        "2024-01-11",
        "--older-than",
        "2024-03-01",
        "--csv",
        "--no-header",
    ),
    "submit-tree": ("submit", S2),
    "submit-csv": ("submit", S1, "--csv"),
    "submit-json": ("submit", S2, "--json"),
    "jobs": ("jobs",),
    "jobs-limit": ("jobs", "-L", "2", "--csv"),
    "jobs-all-csv": ("jobs", "-L", "0", "--csv", "--no-header"),
    "jobs-of-submit-json": ("jobs", "-S", S3, "--json"),
    "jobs-state": ("jobs", "--state", "failed", "--state", "canceled", "--csv"),
    "jobs-package": ("jobs", "-p", "lib", "--csv"),
    "jobs-endpoint": ("jobs", "-e", "ep2", "--csv"),
    "jobs-image": ("jobs", "-I", "alpine:3.19", "--csv"),
    "jobs-env": ("jobs", "-E", "PKG=lib", "--csv"),
    "jobs-older": ("jobs", "--older-than", "2024-02-01", "--csv"),
    "jobs-newer": ("jobs", "--newer-than", "2024-01-15 00:00:00", "-p", "app", "--csv"),
    "job": ("job", J6, "-E", "-s", "-L", "--no-highlighting"),
    "job-plain-script": ("job", J1, "-s", "--no-line-numbers", "--no-highlighting"),
    "job-csv": ("job", J6, "--csv"),
    "job-json": ("job", J9, "--json", "-L"),
    "log-of": ("log-of", J6),
    "log-of-running": ("log-of", J9),
    "log-of-running-json": ("log-of", J9, "--json"),
    "artifacts": ("artifacts",),
    "artifacts-csv-limit": ("artifacts", "--csv", "-L", "2"),
    "artifacts-job-json": ("artifacts", "-J", J2, "--json"),
    "envvars": ("envvars", "--csv"),
    "envvars-json": ("envvars", "--json"),
    "images": ("images",),
    "images-json": ("images", "--json"),
    "releases": ("releases",),
    "releases-csv": ("releases", "--csv"),
    "releases-json-store": ("releases", "--to", "stable", "--json"),
    "releases-package": ("releases", "-p", "lib", "--csv", "--no-header"),
    "releases-older": ("releases", "--older-than", "2024-01-11", "--csv"),
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
    assert done.stdout.replace(releases, "<releases>") == GOLDEN[case]


def test_log_of_a_running_job_says_so(inline: Cli) -> None:
    done = inline("db", "log-of", J9)
    assert done.code == 0
    assert done.stderr == f"(job {J9} is running; the log may grow)\n"


@pytest.mark.parametrize("case", list(TERMINAL))
def test_golden_table_on_a_terminal(cli: Cli, case: str) -> None:
    done = cli.in_terminal("db", *TERMINAL[case])
    assert (done.code, done.stderr) == (0, "")
    assert done.stdout == GOLDEN[case]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("job", str(jid(99))), 5, f"error: no job {jid(99)} in the database"),
        (("submit", str(sid(99))), 5, f"error: no submit {sid(99)} in the database"),
        (("log-of", "not-a-uuid"), 2, "is not a valid UUID"),
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


# Generated from the seed, then read line by line.
GOLDEN: dict[str, str] = {
    "submits": """\
2024-01-10 10:00:00 5b000000-0000-4000-8000-000000000001 app 1.0 succeeded build aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
2024-02-01 08:00:00 5b000000-0000-4000-8000-000000000002 app 1.0 failed rerun bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
2024-03-05 12:00:00 5b000000-0000-4000-8000-000000000003 tool 0.4 running build cccccccccccccccccccccccccccccccccccccccc
""",
    "submits-csv": """\
Time,UUID,For Package,For Package Version,State,Kind,Commit
2024-01-10 10:00:00,5b000000-0000-4000-8000-000000000001,app,1.0,succeeded,build,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
2024-02-01 08:00:00,5b000000-0000-4000-8000-000000000002,app,1.0,failed,rerun,bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
2024-03-05 12:00:00,5b000000-0000-4000-8000-000000000003,tool,0.4,running,build,cccccccccccccccccccccccccccccccccccccccc
""",
    "submits-csv-no-header": """\
2024-01-10 10:00:00,5b000000-0000-4000-8000-000000000001,app,1.0,succeeded,build,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
2024-02-01 08:00:00,5b000000-0000-4000-8000-000000000002,app,1.0,failed,rerun,bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
2024-03-05 12:00:00,5b000000-0000-4000-8000-000000000003,tool,0.4,running,build,cccccccccccccccccccccccccccccccccccccccc
""",
    "submits-json-limit": """\
[
  {
    "time": "2024-03-05T12:00:00+00:00",
    "uuid": "5b000000-0000-4000-8000-000000000003",
    "for_package": "tool",
    "for_package_version": "0.4",
    "state": "running",
    "kind": "build",
    "commit": "cccccccccccccccccccccccccccccccccccccccc"
  }
]
""",
    "submits-for-pkg": """\
Time,UUID,For Package,For Package Version,State,Kind,Commit
2024-03-05 12:00:00,5b000000-0000-4000-8000-000000000003,tool,0.4,running,build,cccccccccccccccccccccccccccccccccccccccc
""",
    "submits-with-pkg": """\
Time,UUID,For Package,For Package Version,State,Kind,Commit
2024-01-10 10:00:00,5b000000-0000-4000-8000-000000000001,app,1.0,succeeded,build,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
2024-02-01 08:00:00,5b000000-0000-4000-8000-000000000002,app,1.0,failed,rerun,bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
""",
    "submits-commit": """\
Time,UUID,For Package,For Package Version,State,Kind,Commit
2024-02-01 08:00:00,5b000000-0000-4000-8000-000000000002,app,1.0,failed,rerun,bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
""",
    "submits-image": """\
Time,UUID,For Package,For Package Version,State,Kind,Commit
2024-03-05 12:00:00,5b000000-0000-4000-8000-000000000003,tool,0.4,running,build,cccccccccccccccccccccccccccccccccccccccc
""",
    "submits-state": """\
Time,UUID,For Package,For Package Version,State,Kind,Commit
2024-02-01 08:00:00,5b000000-0000-4000-8000-000000000002,app,1.0,failed,rerun,bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
2024-03-05 12:00:00,5b000000-0000-4000-8000-000000000003,tool,0.4,running,build,cccccccccccccccccccccccccccccccccccccccc
""",
    "submits-kind": """\
[
  {
    "time": "2024-02-01T08:00:00+00:00",
    "uuid": "5b000000-0000-4000-8000-000000000002",
    "for_package": "app",
    "for_package_version": "1.0",
    "state": "failed",
    "kind": "rerun",
    "commit": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
  }
]
""",
    "submits-between": """\
2024-02-01 08:00:00,5b000000-0000-4000-8000-000000000002,app,1.0,failed,rerun,bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
""",
    "submit-tree": """\
Submit:       5b000000-0000-4000-8000-000000000002
Date:         2024-02-01 08:00:00
Package:      app 1.0
Image:        registry.local/debian:12
Commit:       bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb (dirty work tree)
Kind:         rerun of 5b000000-0000-4000-8000-000000000001
State:        failed
Finished:     2024-02-01 08:01:04
Duration:     1m04s
Triggered by: -
Env:          DEBUG=1 FAST=yes
Jobs:         4 (canceled 1, dep_failed 1, failed 1, reused 1)

Package             Version  State       Ok?  Endpoint  Duration  Image      Container     Job
------------------  -------  ----------  ---  --------  --------  ---------  ------------  ------------------------------------
app                 1.0      dep_failed  no   -         -         debian:12  -             10b00000-0000-4000-8000-000000000005
├─ lib              2.0      failed      no   ep1       1m01s     debian:12  dddddddddddd  10b00000-0000-4000-8000-000000000006
│  └─ base          0.1      reused      yes  -         -         debian:12  -             10b00000-0000-4000-8000-000000000008
└─ tool             0.3      canceled    no   -         -         debian:12  -             10b00000-0000-4000-8000-000000000007
   └─ base (above)  0.1      reused      yes  -         -         debian:12  -             10b00000-0000-4000-8000-000000000008
""",
    "submit-csv": """\
Package,Version,State,Ok?,Endpoint,Duration,Image,Container,Job
app,1.0,succeeded,yes,ep2,20s,debian:12,1c1c1c1c1c1c,10b00000-0000-4000-8000-000000000001
lib,2.0,succeeded,yes,ep1,45s,debian:12,2c2c2c2c2c2c,10b00000-0000-4000-8000-000000000002
tool,0.3,succeeded,yes,ep2,5s,debian:12,3c3c3c3c3c3c,10b00000-0000-4000-8000-000000000003
base,0.1,succeeded,yes,ep1,30s,debian:12,4c4c4c4c4c4c,10b00000-0000-4000-8000-000000000004
""",
    "submit-json": """\
{
  "uuid": "5b000000-0000-4000-8000-000000000002",
  "submit_time": "2024-02-01T08:00:00+00:00",
  "package": "app",
  "version": "1.0",
  "image": "registry.local/debian:12",
  "commit": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
  "commit_time": null,
  "dirty": true,
  "kind": "rerun",
  "parent": "5b000000-0000-4000-8000-000000000001",
  "state": "failed",
  "finished_at": "2024-02-01T08:01:04+00:00",
  "triggered_by": null,
  "env": {
    "DEBUG": "1",
    "FAST": "yes"
  },
  "jobs": [
    {
      "uuid": "10b00000-0000-4000-8000-000000000005",
      "submit": "5b000000-0000-4000-8000-000000000002",
      "package": "app",
      "version": "1.0",
      "image": "registry.local/debian:12",
      "image_digest": null,
      "endpoint": null,
      "container": null,
      "state": "dep_failed",
      "ok": false,
      "failure_kind": null,
      "exit_code": null,
      "queued_at": null,
      "started_at": null,
      "finished_at": "2024-02-01T08:01:03+00:00",
      "job_key": "0000000000000000000000000000000000000000000000000000000000000005",
      "reused_from": null,
      "attempt": 1,
      "root_package": "app",
      "root_version": "1.0",
      "depends_on": [
        {
          "job": "10b00000-0000-4000-8000-000000000006",
          "kind": "build"
        },
        {
          "job": "10b00000-0000-4000-8000-000000000007",
          "kind": "build"
        }
      ]
    },
    {
      "uuid": "10b00000-0000-4000-8000-000000000006",
      "submit": "5b000000-0000-4000-8000-000000000002",
      "package": "lib",
      "version": "2.0",
      "image": "registry.local/debian:12",
      "image_digest": null,
      "endpoint": "ep1",
      "container": "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
      "state": "failed",
      "ok": false,
      "failure_kind": "script",
      "exit_code": 2,
      "queued_at": "2024-02-01T08:00:02+00:00",
      "started_at": "2024-02-01T08:00:02+00:00",
      "finished_at": "2024-02-01T08:01:03+00:00",
      "job_key": "0000000000000000000000000000000000000000000000000000000000000006",
      "reused_from": null,
      "attempt": 1,
      "root_package": "app",
      "root_version": "1.0",
      "depends_on": [
        {
          "job": "10b00000-0000-4000-8000-000000000008",
          "kind": "build"
        }
      ]
    },
    {
      "uuid": "10b00000-0000-4000-8000-000000000007",
      "submit": "5b000000-0000-4000-8000-000000000002",
      "package": "tool",
      "version": "0.3",
      "image": "registry.local/debian:12",
      "image_digest": null,
      "endpoint": null,
      "container": null,
      "state": "canceled",
      "ok": false,
      "failure_kind": "canceled",
      "exit_code": null,
      "queued_at": null,
      "started_at": null,
      "finished_at": "2024-02-01T08:01:04+00:00",
      "job_key": "0000000000000000000000000000000000000000000000000000000000000007",
      "reused_from": null,
      "attempt": 1,
      "root_package": "app",
      "root_version": "1.0",
      "depends_on": [
        {
          "job": "10b00000-0000-4000-8000-000000000008",
          "kind": "build"
        }
      ]
    },
    {
      "uuid": "10b00000-0000-4000-8000-000000000008",
      "submit": "5b000000-0000-4000-8000-000000000002",
      "package": "base",
      "version": "0.1",
      "image": "registry.local/debian:12",
      "image_digest": null,
      "endpoint": null,
      "container": null,
      "state": "reused",
      "ok": true,
      "failure_kind": null,
      "exit_code": null,
      "queued_at": null,
      "started_at": null,
      "finished_at": "2024-02-01T08:00:01+00:00",
      "job_key": "0000000000000000000000000000000000000000000000000000000000000008",
      "reused_from": "10b00000-0000-4000-8000-000000000004",
      "attempt": 1,
      "root_package": "app",
      "root_version": "1.0",
      "depends_on": []
    }
  ],
  "children": [],
  "verdicts": []
}
""",
    "jobs": """\
5b000000-0000-4000-8000-000000000001 10b00000-0000-4000-8000-000000000001 2024-01-10 10:00:00 ep2 yes app 1.0 debian:12 DEB succeeded app 1.0
5b000000-0000-4000-8000-000000000001 10b00000-0000-4000-8000-000000000002 2024-01-10 10:00:00 ep1 yes lib 2.0 debian:12 GZ succeeded app 1.0
5b000000-0000-4000-8000-000000000001 10b00000-0000-4000-8000-000000000003 2024-01-10 10:00:00 ep2 yes tool 0.3 debian:12 RPM succeeded app 1.0
5b000000-0000-4000-8000-000000000001 10b00000-0000-4000-8000-000000000004 2024-01-10 10:00:00 ep1 yes base 0.1 debian:12 GZ succeeded app 1.0
5b000000-0000-4000-8000-000000000002 10b00000-0000-4000-8000-000000000005 2024-02-01 08:00:00 - no app 1.0 debian:12 - dep_failed app 1.0
5b000000-0000-4000-8000-000000000002 10b00000-0000-4000-8000-000000000006 2024-02-01 08:00:00 ep1 no lib 2.0 debian:12 - failed app 1.0
5b000000-0000-4000-8000-000000000002 10b00000-0000-4000-8000-000000000007 2024-02-01 08:00:00 - no tool 0.3 debian:12 - canceled app 1.0
5b000000-0000-4000-8000-000000000002 10b00000-0000-4000-8000-000000000008 2024-02-01 08:00:00 - yes base 0.1 debian:12 - reused app 1.0
5b000000-0000-4000-8000-000000000003 10b00000-0000-4000-8000-000000000009 2024-03-05 12:00:00 ep2 ? tool 0.4 alpine:3.19 - running tool 0.4
""",
    "jobs-limit": """\
Submit,Job,Time,Host,Ok?,Package,Version,Distro,Type,State,Root Package,Root Version
5b000000-0000-4000-8000-000000000002,10b00000-0000-4000-8000-000000000008,2024-02-01 08:00:00,-,yes,base,0.1,debian:12,-,reused,app,1.0
5b000000-0000-4000-8000-000000000003,10b00000-0000-4000-8000-000000000009,2024-03-05 12:00:00,ep2,?,tool,0.4,alpine:3.19,-,running,tool,0.4
""",
    "jobs-all-csv": """\
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000001,2024-01-10 10:00:00,ep2,yes,app,1.0,debian:12,DEB,succeeded,app,1.0
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000002,2024-01-10 10:00:00,ep1,yes,lib,2.0,debian:12,GZ,succeeded,app,1.0
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000003,2024-01-10 10:00:00,ep2,yes,tool,0.3,debian:12,RPM,succeeded,app,1.0
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000004,2024-01-10 10:00:00,ep1,yes,base,0.1,debian:12,GZ,succeeded,app,1.0
5b000000-0000-4000-8000-000000000002,10b00000-0000-4000-8000-000000000005,2024-02-01 08:00:00,-,no,app,1.0,debian:12,-,dep_failed,app,1.0
5b000000-0000-4000-8000-000000000002,10b00000-0000-4000-8000-000000000006,2024-02-01 08:00:00,ep1,no,lib,2.0,debian:12,-,failed,app,1.0
5b000000-0000-4000-8000-000000000002,10b00000-0000-4000-8000-000000000007,2024-02-01 08:00:00,-,no,tool,0.3,debian:12,-,canceled,app,1.0
5b000000-0000-4000-8000-000000000002,10b00000-0000-4000-8000-000000000008,2024-02-01 08:00:00,-,yes,base,0.1,debian:12,-,reused,app,1.0
5b000000-0000-4000-8000-000000000003,10b00000-0000-4000-8000-000000000009,2024-03-05 12:00:00,ep2,?,tool,0.4,alpine:3.19,-,running,tool,0.4
""",
    "jobs-of-submit-json": """\
[
  {
    "submit": "5b000000-0000-4000-8000-000000000003",
    "job": "10b00000-0000-4000-8000-000000000009",
    "time": "2024-03-05T12:00:00+00:00",
    "host": "ep2",
    "ok": null,
    "package": "tool",
    "version": "0.4",
    "distro": "alpine:3.19",
    "type": null,
    "state": "running",
    "root_package": "tool",
    "root_version": "0.4"
  }
]
""",
    "jobs-state": """\
Submit,Job,Time,Host,Ok?,Package,Version,Distro,Type,State,Root Package,Root Version
5b000000-0000-4000-8000-000000000002,10b00000-0000-4000-8000-000000000006,2024-02-01 08:00:00,ep1,no,lib,2.0,debian:12,-,failed,app,1.0
5b000000-0000-4000-8000-000000000002,10b00000-0000-4000-8000-000000000007,2024-02-01 08:00:00,-,no,tool,0.3,debian:12,-,canceled,app,1.0
""",
    "jobs-package": """\
Submit,Job,Time,Host,Ok?,Package,Version,Distro,Type,State,Root Package,Root Version
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000002,2024-01-10 10:00:00,ep1,yes,lib,2.0,debian:12,GZ,succeeded,app,1.0
5b000000-0000-4000-8000-000000000002,10b00000-0000-4000-8000-000000000006,2024-02-01 08:00:00,ep1,no,lib,2.0,debian:12,-,failed,app,1.0
""",
    "jobs-endpoint": """\
Submit,Job,Time,Host,Ok?,Package,Version,Distro,Type,State,Root Package,Root Version
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000001,2024-01-10 10:00:00,ep2,yes,app,1.0,debian:12,DEB,succeeded,app,1.0
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000003,2024-01-10 10:00:00,ep2,yes,tool,0.3,debian:12,RPM,succeeded,app,1.0
5b000000-0000-4000-8000-000000000003,10b00000-0000-4000-8000-000000000009,2024-03-05 12:00:00,ep2,?,tool,0.4,alpine:3.19,-,running,tool,0.4
""",
    "jobs-image": """\
Submit,Job,Time,Host,Ok?,Package,Version,Distro,Type,State,Root Package,Root Version
5b000000-0000-4000-8000-000000000003,10b00000-0000-4000-8000-000000000009,2024-03-05 12:00:00,ep2,?,tool,0.4,alpine:3.19,-,running,tool,0.4
""",
    "jobs-env": """\
Submit,Job,Time,Host,Ok?,Package,Version,Distro,Type,State,Root Package,Root Version
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000002,2024-01-10 10:00:00,ep1,yes,lib,2.0,debian:12,GZ,succeeded,app,1.0
5b000000-0000-4000-8000-000000000002,10b00000-0000-4000-8000-000000000006,2024-02-01 08:00:00,ep1,no,lib,2.0,debian:12,-,failed,app,1.0
""",
    "jobs-older": """\
Submit,Job,Time,Host,Ok?,Package,Version,Distro,Type,State,Root Package,Root Version
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000001,2024-01-10 10:00:00,ep2,yes,app,1.0,debian:12,DEB,succeeded,app,1.0
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000002,2024-01-10 10:00:00,ep1,yes,lib,2.0,debian:12,GZ,succeeded,app,1.0
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000003,2024-01-10 10:00:00,ep2,yes,tool,0.3,debian:12,RPM,succeeded,app,1.0
5b000000-0000-4000-8000-000000000001,10b00000-0000-4000-8000-000000000004,2024-01-10 10:00:00,ep1,yes,base,0.1,debian:12,GZ,succeeded,app,1.0
""",
    "jobs-newer": """\
Submit,Job,Time,Host,Ok?,Package,Version,Distro,Type,State,Root Package,Root Version
5b000000-0000-4000-8000-000000000002,10b00000-0000-4000-8000-000000000005,2024-02-01 08:00:00,-,no,app,1.0,debian:12,-,dep_failed,app,1.0
""",
    "job": """\
Job:         10b00000-0000-4000-8000-000000000006
Submit:      5b000000-0000-4000-8000-000000000002
Succeeded:   no
State:       failed (script), exit code 2
Package:     lib 2.0
Root:        app 1.0
Ran on:      ep1
Image:       registry.local/debian:12
Container:   dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
Queued:      2024-02-01 08:00:02
Started:     2024-02-01 08:00:02
Finished:    2024-02-01 08:01:03
Duration:    1m01s
Attempt:     1
Reused from: -
Job key:     0000000000000000000000000000000000000000000000000000000000000006
Script:      3 lines
Log:         4 lines
---
\t  0. DEBUG=1
\t  1. PKG=lib
---
   1 | #!/bin/bash
   2 | echo building lib
   3 | mkdir -p /outputs
---
#BUTIDO:PHASE:build
building lib
make: *** [all] Error 1
#BUTIDO:STATE:ERR:make failed
""",
    "job-plain-script": """\
Job:         10b00000-0000-4000-8000-000000000001
Submit:      5b000000-0000-4000-8000-000000000001
Succeeded:   yes
State:       succeeded, exit code 0
Package:     app 1.0
Root:        app 1.0
Ran on:      ep2
Image:       registry.local/debian:12
Container:   1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c
Queued:      2024-01-10 10:03:00
Started:     2024-01-10 10:03:00
Finished:    2024-01-10 10:03:20
Duration:    20s
Attempt:     1
Reused from: -
Job key:     0000000000000000000000000000000000000000000000000000000000000001
Script:      3 lines
Log:         4 lines
---
#!/bin/bash
echo building app
mkdir -p /outputs
""",
    "job-csv": """\
UUID,Success,Package Name,Package Version,Ran on,Image Name,Container,State
10b00000-0000-4000-8000-000000000006,no,lib,2.0,ep1,registry.local/debian:12,dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd,failed
""",
    "job-json": """\
{
  "uuid": "10b00000-0000-4000-8000-000000000009",
  "submit": "5b000000-0000-4000-8000-000000000003",
  "package": "tool",
  "version": "0.4",
  "image": "alpine:3.19",
  "image_digest": null,
  "endpoint": "ep2",
  "container": null,
  "state": "running",
  "ok": null,
  "failure_kind": null,
  "exit_code": null,
  "queued_at": "2024-03-05T12:00:01+00:00",
  "started_at": "2024-03-05T12:00:02+00:00",
  "finished_at": null,
  "job_key": "0000000000000000000000000000000000000000000000000000000000000009",
  "reused_from": null,
  "attempt": 1,
  "root_package": "tool",
  "root_version": "0.4",
  "env": {
    "DEBUG": "1",
    "PKG": "tool"
  },
  "log": "#BUTIDO:PHASE:configure\\nchecking for gcc... yes\\n"
}
""",
    "log-of": """\
#BUTIDO:PHASE:build
building lib
make: *** [all] Error 1
#BUTIDO:STATE:ERR:make failed
""",
    "log-of-running": """\
#BUTIDO:PHASE:configure
checking for gcc... yes
""",
    "log-of-running-json": """\
{
  "job": "10b00000-0000-4000-8000-000000000009",
  "state": "running",
  "ok": null,
  "finished": false,
  "log": "#BUTIDO:PHASE:configure\\nchecking for gcc... yes\\n"
}
""",
    "artifacts": """\
base-0.1.tar.gz no 10b00000-0000-4000-8000-000000000004 1000 0404040404040404040404040404040404040404040404040404040404040404
lib-2.0.tar.gz 2024-01-10 11:00:00 10b00000-0000-4000-8000-000000000002 2000 0202020202020202020202020202020202020202020202020202020202020202
tool-0.3.rpm no 10b00000-0000-4000-8000-000000000003 300 0303030303030303030303030303030303030303030303030303030303030303
app-1.0.deb 2024-01-11 09:00:00 10b00000-0000-4000-8000-000000000001 4000 0101010101010101010101010101010101010101010101010101010101010101
""",
    "artifacts-csv-limit": """\
Path,Released,Job,Size,SHA256
tool-0.3.rpm,no,10b00000-0000-4000-8000-000000000003,300,0303030303030303030303030303030303030303030303030303030303030303
app-1.0.deb,2024-01-11 09:00:00,10b00000-0000-4000-8000-000000000001,4000,0101010101010101010101010101010101010101010101010101010101010101
""",
    "artifacts-job-json": """\
[
  {
    "path": "lib-2.0.tar.gz",
    "released": "2024-01-10T11:00:00+00:00",
    "job": "10b00000-0000-4000-8000-000000000002",
    "size": 2000,
    "sha256": "0202020202020202020202020202020202020202020202020202020202020202"
  }
]
""",
    "envvars": """\
Name,Value
DEBUG,1
PKG,app
PKG,base
PKG,lib
PKG,tool
FAST,yes
""",
    "envvars-json": """\
[
  {
    "name": "DEBUG",
    "value": "1"
  },
  {
    "name": "PKG",
    "value": "app"
  },
  {
    "name": "PKG",
    "value": "base"
  },
  {
    "name": "PKG",
    "value": "lib"
  },
  {
    "name": "PKG",
    "value": "tool"
  },
  {
    "name": "FAST",
    "value": "yes"
  }
]
""",
    "images": """\
registry.local/debian:12
alpine:3.19
""",
    "images-json": """\
[
  {
    "name": "registry.local/debian:12"
  },
  {
    "name": "alpine:3.19"
  }
]
""",
    "releases": """\
app 1.0 2024-01-11 09:00:00 <releases>/stable/app-1.0.deb stable
lib 2.0 2024-01-10 11:00:00 testing/lib-2.0.tar.gz is not available locally testing
""",
    "releases-csv": """\
Package,Version,Date,Path,Store
app,1.0,2024-01-11 09:00:00,<releases>/stable/app-1.0.deb,stable
lib,2.0,2024-01-10 11:00:00,testing/lib-2.0.tar.gz is not available locally,testing
""",
    "releases-json-store": """\
[
  {
    "package": "app",
    "version": "1.0",
    "date": "2024-01-11T09:00:00+00:00",
    "path": "<releases>/stable/app-1.0.deb",
    "store": "stable"
  }
]
""",
    "releases-package": """\
lib,2.0,2024-01-10 11:00:00,testing/lib-2.0.tar.gz is not available locally,testing
""",
    "releases-older": """\
Package,Version,Date,Path,Store
lib,2.0,2024-01-10 11:00:00,testing/lib-2.0.tar.gz is not available locally,testing
""",
    "submits-table": """\
Time                 UUID                                  For Package  For Package Version  State      Kind   Commit
-------------------  ------------------------------------  -----------  -------------------  ---------  -----  ----------------------------------------
2024-01-10 10:00:00  5b000000-0000-4000-8000-000000000001  app          1.0                  succeeded  build  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
2024-02-01 08:00:00  5b000000-0000-4000-8000-000000000002  app          1.0                  failed     rerun  bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
2024-03-05 12:00:00  5b000000-0000-4000-8000-000000000003  tool         0.4                  running    build  cccccccccccccccccccccccccccccccccccccccc
""",
    "jobs-table": """\
Submit                                Job                                   Time                 Host  Ok?  Package  Version  Distro       Type  State     Root Package  Root Version
------------------------------------  ------------------------------------  -------------------  ----  ---  -------  -------  -----------  ----  --------  ------------  ------------
5b000000-0000-4000-8000-000000000002  10b00000-0000-4000-8000-000000000007  2024-02-01 08:00:00  -     no   tool     0.3      debian:12    -     canceled  app           1.0
5b000000-0000-4000-8000-000000000002  10b00000-0000-4000-8000-000000000008  2024-02-01 08:00:00  -     yes  base     0.1      debian:12    -     reused    app           1.0
5b000000-0000-4000-8000-000000000003  10b00000-0000-4000-8000-000000000009  2024-03-05 12:00:00  ep2   ?    tool     0.4      alpine:3.19  -     running   tool          0.4
""",
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_setup_creates_the_schema_once_and_other_commands_need_it(
    backend: str, tmp_path: Path, postgres_url: str
) -> None:
    with fresh_database_url(backend, tmp_path, postgres_url) as url:
        cli = make_cli(url, tmp_path)
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
        empty = cli("db", "jobs", "--csv")
        assert (empty.code, empty.stderr) == (0, "")
        assert empty.stdout == ",".join(_JOB_COLUMNS) + "\n"


_JOB_COLUMNS = ("Submit", "Job", "Time", "Host", "Ok?", "Package", "Version", "Distro", "Type",
                "State", "Root Package", "Root Version")  # fmt: skip


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///{tmp}/none/butido.sqlite", "the database file {tmp}/none/butido.sqlite does"),
        (
            "postgresql+psycopg://butido:secret@127.0.0.1:1/butido",
            "cannot connect to the database postgresql+psycopg://butido:***@127.0.0.1:1/butido",
        ),
    ],
    ids=["sqlite-file-missing", "postgresql-unreachable"],
)
def test_no_database_is_one_clear_line(tmp_path: Path, url: str, message: str) -> None:
    cli = make_cli(url.format(tmp=tmp_path), tmp_path)
    done = cli("db", "jobs")
    assert done.code == 5
    error, hint = done.stderr.splitlines()
    assert error.startswith(f"error: {message.format(tmp=tmp_path)}")
    assert hint.startswith("hint: ")
    assert "butido db setup" in hint
    assert "secret" not in done.stderr
    assert not (tmp_path / "none").exists()


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
            input="\\pset tuples_only on\nselect current_schema(), version_num from alembic_version;\n",
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
