"""`butido endpoint disable|enable NAME`: recorded in the database, shown by `endpoint stats`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from butido_py.config.model import EndpointConfig
from butido_py.db.database import open_database
from butido_py.db.endpoints import disabled_endpoint_names, list_endpoints
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.errors import ExitCode
from tests.e2e.conftest import MINIMAL, Runner
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.json_schema import validated


def configure(repo: Path, uri: str = "unix:///var/run/docker.sock") -> None:
    (repo / "config.toml").write_text(
        MINIMAL
        + '[docker]\nimages = [{ name = "butido-tiny:latest", short_name = "tiny" }]\n'
        + "".join(
            f'[docker.endpoints.{name}]\nuri = "{uri}"\nendpoint_type = "socket"\nmaxjobs = 1\n'
            for name in ("one", "two")
        )
    )


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path, postgres_url) as found:
        engine = open_engine(found)
        setup_schema(engine)
        engine.dispose()
        yield found


def disabled(url: str) -> frozenset[str]:
    db = open_database(url)
    try:
        return disabled_endpoint_names(db)
    finally:
        db.close()


def test_disable_and_enable_are_recorded(butido: Runner, repo: Path, url: str) -> None:
    configure(repo)
    env = {"BUTIDO_DATABASE_URL": url}
    done = butido("endpoint", "disable", "two", env=env)
    assert done.code == 0, done.stderr
    assert done.stdout == "endpoint two disabled: builds schedule no jobs on it\n"
    assert disabled(url) == {"two"}
    off = butido("endpoint", "two", "disable", "--json", env=env)  # name first: same
    assert validated("endpoint disable", off.stdout)["disabled"] is True
    listed = validated("endpoint list", butido("endpoint", "list", "--json", env=env).stdout)
    assert [(e["name"], e["state"]) for e in listed] == [("one", "enabled"), ("two", "disabled")]
    assert disabled(url) == {"two"}
    on = butido("endpoint", "enable", "two", "--json", env=env)
    assert on.code == 0, on.stderr
    assert validated("endpoint enable", on.stdout) == {
        "name": "two", "disabled": False, "quarantined_until": None, "failures": 0,
    }  # fmt: skip
    assert disabled(url) == frozenset()
    db = open_database(url)
    assert [e.name for e in list_endpoints(db)] == ["two"]
    db.close()


def test_unknown_endpoint_is_an_error(butido: Runner, repo: Path, url: str) -> None:
    configure(repo)
    env = {"BUTIDO_DATABASE_URL": url}
    done = butido("endpoint", "disable", "three", env=env)
    assert done.code == ExitCode.ENDPOINT
    assert "endpoint 'three' is not configured" in done.stderr
    assert "configured endpoints: one, two" in done.stderr
    assert disabled(url) == frozenset()
    missing = butido("endpoint", "enable", env=env)
    assert missing.code == ExitCode.USAGE
    assert "missing endpoint NAME" in missing.stderr


@pytest.mark.docker
def test_stats_shows_the_health(
    butido: Runner, repo: Path, tmp_path: Path, docker_endpoint: EndpointConfig
) -> None:
    configure(repo, docker_endpoint.uri)
    nowhere = {"BUTIDO_DATABASE_URL": "postgresql+psycopg://butido:x@127.0.0.1:1/butido"}
    unknown = butido("endpoint", "stats", "--json", env=nowhere)  # no database: still works
    assert unknown.code == 0, unknown.stderr
    assert "warning: endpoint health unknown" in unknown.stderr
    assert [row["disabled"] for row in json.loads(unknown.stdout)] == [None, None]
    env = {"BUTIDO_DATABASE_URL": f"sqlite:///{tmp_path / 'stats.sqlite'}"}  # made on first use
    assert butido("endpoint", "disable", "one", env=env).code == 0
    stats = butido("endpoint", "stats", "--json", env=env)
    assert stats.code == 0, stats.stderr
    rows = {row["name"]: row for row in validated("endpoint stats", stats.stdout)}
    assert (rows["one"]["disabled"], rows["two"]["disabled"]) == (True, False)
    assert rows["two"]["failures"] == 0
    assert rows["one"]["quarantined_until"] is None
    csv = butido("endpoint", "one", "stats", "--csv", "--header", env=env).stdout.splitlines()
    assert csv[0].endswith(",Disabled,Quarantined Until,Failures")
    assert csv[1].endswith(",yes,-,0")


@pytest.mark.docker
def test_stats_shows_the_endpoints_that_answer_when_one_is_dead(
    butido: Runner, repo: Path, tmp_path: Path, docker_endpoint: EndpointConfig
) -> None:
    configure(repo, docker_endpoint.uri)
    config = repo / "config.toml"
    dead = tmp_path / "dead.sock"
    text = config.read_text()
    two = f'[docker.endpoints.two]\nuri = "{docker_endpoint.uri}"'
    assert two in text
    config.write_text(text.replace(two, f'[docker.endpoints.two]\nuri = "unix://{dead}"'))
    env = {"BUTIDO_DATABASE_URL": f"sqlite:///{tmp_path / 'stats.sqlite'}"}
    assert butido("db", "setup", env=env).code == 0
    done = butido("endpoint", "stats", "--json", env=env)
    assert done.code == ExitCode.ENDPOINT
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert int(rows["one"]["cores"]) >= 1
    assert (rows["two"]["cores"], rows["two"]["version"], rows["two"]["failures"]) == (
        None,
        None,
        0,
    )
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert "'two'" in error
