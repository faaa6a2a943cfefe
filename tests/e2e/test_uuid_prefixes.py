"""Submits and jobs named by a UUID prefix (db/prefix.py), through the commands that take them;
on the seeded history of test_db_commands with one submit and one job given distinctive UUIDs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from butido_py.db.database import open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.db.models import JOBS, SUBMITS
from butido_py.errors import ExitCode
from tests.e2e.test_db_commands import Cli, inline, make_cli
from tests.e2e.test_value_completion import complete
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.seed import jid, seed, sid

__all__ = ["inline"]  # runs the commands in this process (fast), on this module's `cli`

SUBMIT = uuid.UUID("9c2aab71-1f2c-4a4b-8c8d-000000000001")
JOB = uuid.UUID("abcdef12-3456-4789-8abc-def012345678")


@pytest.fixture(scope="module", params=BACKENDS)
def cli(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> Iterator[Cli]:
    root = tmp_path_factory.mktemp("prefix")
    with fresh_database_url(request.param, root, postgres_url) as url:
        engine = open_engine(url)
        setup_schema(engine)
        engine.dispose()
        db = open_database(url)
        seed(db)
        with db.begin() as connection:
            connection.execute(update(SUBMITS).where(SUBMITS.c.uuid == sid(1)).values(uuid=SUBMIT))
            connection.execute(update(JOBS).where(JOBS.c.uuid == jid(2)).values(uuid=JOB))
        db.close()
        yield make_cli(url, root)


@pytest.mark.parametrize(
    "args",
    [
        ("db", "submit", "9c2aab", "--json"),
        ("db", "submit", "9C2AAB71-1f", "--json"),
        ("db", "jobs", "-S", "9c2aab71", "--json"),
        ("db", "job", "abcdef", "--json"),
        ("db", "artifacts", "-J", "abcdef1", "--json"),
    ],
    ids=["submit", "submit-dashes", "jobs-of-submit", "job", "artifacts-of-job"],
)
def test_a_unique_prefix_names_it(inline: Cli, args: tuple[str, ...]) -> None:
    done = inline(*args)
    assert (done.code, done.stderr) == (0, ""), done.stderr
    text = done.stdout
    assert str(SUBMIT) in text or str(JOB) in text
    json.loads(text)


def test_an_ambiguous_prefix_lists_the_candidates(inline: Cli) -> None:
    done = inline("db", "submit", "5b0000")
    assert done.code == ExitCode.USAGE
    lines = done.stderr.splitlines()
    assert lines[0] == "error: the prefix 5b0000 names several submits"
    assert lines[1] == "hint: give more digits of one of:"
    assert [line.split()[0] for line in lines[2:]] == [str(sid(2)), str(sid(3))]
    assert done.stdout == ""


def test_an_unknown_prefix_is_not_found(inline: Cli) -> None:
    done = inline("rebuild", "fedcba98")
    assert done.code == ExitCode.DATABASE
    assert done.stderr.splitlines() == [
        "error: no submit or group starting with fedcba98 in the database",
        "hint: list submits and groups with `butido db submits` or `butido db groups`",
    ]


def test_too_short_or_not_hex_is_a_usage_error(inline: Cli) -> None:
    for bad in ("9c2aa", "9c2aag71"):
        done = inline("db", "submit", bad)
        assert done.code == ExitCode.USAGE
        assert "neither a UUID nor a prefix of at least 6 hex digits" in done.stderr


@pytest.mark.parametrize("given", [str(SUBMIT), "9c2aab71"])
def test_a_submit_given_as_a_job_says_so(inline: Cli, given: str) -> None:
    done = inline("db", "log-of", given)
    assert done.code == ExitCode.USAGE
    assert done.stderr.splitlines() == [
        f"error: {given} is a submit, not a job",
        f"hint: list its jobs with `butido db jobs -S {SUBMIT}`",
    ]


def test_release_new_takes_a_prefix(inline: Cli) -> None:
    done = inline("release", "new", "9c2aab", "--to", "nowhere")  # resolved, then the store
    assert done.stderr.startswith("error: release store 'nowhere' is not configured")


def test_recent_uuids_are_completed(
    inline: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert complete(monkeypatch, capsys, "butido db submit 9c") == [str(SUBMIT)]
    assert complete(monkeypatch, capsys, "butido db log-of abc") == [str(JOB)]
    assert len(complete(monkeypatch, capsys, "butido rebuild ")) == 3
