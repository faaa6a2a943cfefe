"""Listings never lie: a default limit that cut a listing says so, one submit lists all its jobs,
an empty listing says so; on the seeded database of test_db_commands (3 submits, 9 jobs)."""

from __future__ import annotations

import json

import pytest

from butido_py.cli.commands.db.history import plot
from tests.e2e.test_db_commands import S1, Cli, cli, inline

__all__ = ["cli", "inline"]  # the fixtures, shared with test_db_commands


@pytest.fixture
def limit_1(inline: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """After `inline`, which clears every BUTIDO_ variable."""
    monkeypatch.setenv("BUTIDO_DATABASE_DEFAULT_QUERY_LIMIT", "1")


@pytest.mark.usefixtures("limit_1")
@pytest.mark.parametrize(
    ("args", "note"),
    [
        (("submits", "--csv"), "showing the newest 1 of 3 submits; all of them: --all (or -L N)"),
        (("jobs", "--json"), "showing the newest 1 of 9 jobs; all of them: --all (or -L N)"),
        (("artifacts",), "showing the newest 1 of 4 artifacts; all of them: --all (or -L N)"),
        (("releases",), "showing the newest 1 of 2 releases; all of them: --all (or -L N)"),
    ],
    ids=["submits", "jobs", "artifacts", "releases"],
)
def test_a_default_limit_that_cuts_says_so(inline: Cli, args: tuple[str, ...], note: str) -> None:
    done = inline("db", *args)
    assert done.code == 0
    assert done.stderr == note + "\n"
    everything = inline("db", *args, "--all")
    assert (everything.code, everything.stderr) == (0, "")
    asked = inline("db", *args, "-L", "2")  # a limit asked for is not remarked on
    assert (asked.code, asked.stderr) == (0, "")


@pytest.mark.usefixtures("limit_1")
def test_one_submit_lists_all_its_jobs(inline: Cli) -> None:
    done = inline("db", "jobs", "-S", S1, "--json")
    assert (done.code, done.stderr) == (0, "")
    assert len({row["uuid"] for row in json.loads(done.stdout)}) == 4


def test_an_uncut_listing_says_nothing(inline: Cli) -> None:
    done = inline("db", "submits", "--csv")
    assert (done.code, done.stderr) == (0, "")


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (("submits", "--for-pkg", "nothing"), "submits"),
        (("jobs", "-p", "nothing", "--json"), "jobs"),
        (("releases", "-p", "nothing", "--csv"), "releases"),
    ],
)
def test_an_empty_listing_says_so(inline: Cli, args: tuple[str, ...], what: str) -> None:
    done = inline("db", *args)
    assert (done.code, done.stderr) == (0, f"no {what} found\n")


def test_history_of_a_package(inline: Cli) -> None:
    done = inline("db", "history", "lib", "--csv", "--header")
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Time,Version,State,Endpoint,Wait,Run,Job"
    assert len(lines) == 3  # lib 2.0 built by submit 1, failed in its rerun
    as_json = json.loads(inline("db", "history", "lib", "--json").stdout)
    assert as_json["package"] == "lib"
    assert [b["state"] for b in as_json["builds"]] == ["succeeded", "failed"]
    assert as_json["success_rate"] == 0.5
    assert as_json["median_run_seconds"] > 0
    plain = inline("db", "history", "lib").stdout.splitlines()
    assert plain[-1] == "success rate 1/2 (50 %)"
    assert plain[-2].startswith("median run time ")
    assert inline("db", "history", "nothing").stderr == "no builds found\n"


def test_plot() -> None:
    assert plot([1.0, 2.0, 4.0]) == "▃▅█"
