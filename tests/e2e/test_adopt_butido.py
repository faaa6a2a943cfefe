"""A database of butido (Rust) adopted with `butido db setup --adopt-butido`, then its submit
rebuilt and compared: the real command, the real Docker engine, PostgreSQL (butido's only
database)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from butido_py.config.model import EndpointConfig
from butido_py.db import artifacts as db_artifacts
from butido_py.db.engine import open_engine
from butido_py.errors import ExitCode
from tests.helpers.butido_rust import export_as_butido
from tests.helpers.databases import fresh_database_url
from tests.helpers.workspace import Workspace, built, make_workspace, with_debian_image

pytestmark = [pytest.mark.docker, pytest.mark.postgres]


@pytest.fixture
def spaces(
    tmp_path: Path, postgres_url: str, docker_endpoint: EndpointConfig
) -> Iterator[tuple[Workspace, str]]:
    """The template workspace on PostgreSQL, and the URL of a second, empty PostgreSQL schema."""
    with (
        fresh_database_url("postgresql", tmp_path, postgres_url) as ours,
        fresh_database_url("postgresql", tmp_path, postgres_url) as theirs,
    ):
        space = make_workspace(tmp_path, [replace(docker_endpoint, maxjobs=2)], ours)
        yield space, theirs
        space.close()


def test_a_submit_of_butido_rust_is_adopted_and_rebuilt_identically(
    spaces: tuple[Workspace, str],
) -> None:
    space, theirs = spaces
    space = with_debian_image(space)
    original = built(space, "hello-c", "1.0", "-I", "debian")
    ours, butido = open_engine(space.url), open_engine(theirs)
    try:
        export_as_butido(ours, butido)  # what butido (Rust) recorded of the same build
    finally:
        ours.dispose()
        butido.dispose()
    rust = replace(space, url=theirs, _db=None)

    refused = rust.cli("db", "submits")
    assert refused.code == ExitCode.DATABASE, refused.stderr
    assert "created by butido (Rust)" in refused.stderr
    assert "--adopt-butido" in refused.stderr

    adopted = rust.cli("db", "setup", "--adopt-butido", "--json")
    assert adopted.code == 0, adopted.stderr
    summary = json.loads(adopted.stdout)["adopted"]
    assert summary["rows"]["submits"] == 1
    assert summary["jobs_by_state"] == {"succeeded": summary["rows"]["jobs"]}
    assert summary["submits_by_state"] == {"succeeded": 1}

    shown = rust.cli("db", "submit", original, "--json")
    assert shown.code == 0, shown.stderr
    assert json.loads(shown.stdout)["state"] == "succeeded"

    done = rust.cli("rebuild", original, "--json")
    assert done.code == 0, done.stderr + done.stdout
    report = json.loads(done.stdout)
    verdicts = report["verdicts"]
    assert {v["package"] for v in verdicts} >= {"hello-c", "make", "libc"}
    assert {v["verdict"] for v in verdicts} == {"identical"}
    # butido recorded no sha256: the originals were hashed from their staging files
    db = rust.database()
    originals = db_artifacts.submit_outputs(db, uuid.UUID(report["original"]))
    assert all(a.sha256 is None for job in originals for a in job.artifacts)
    rust.close()


def test_an_artifact_of_butido_rust_gone_from_staging_differs(
    spaces: tuple[Workspace, str],
) -> None:
    space, theirs = spaces
    original = built(space, "zlib", "1.3", "-I", "tiny")
    ours, butido = open_engine(space.url), open_engine(theirs)
    try:
        export_as_butido(ours, butido)
    finally:
        ours.dispose()
        butido.dispose()
    for staged in (space.data / "staging" / original).iterdir():
        staged.unlink()
    rust = replace(space, url=theirs, _db=None)
    assert rust.cli("db", "setup", "--adopt-butido").code == 0
    done = rust.cli("rebuild", original)
    assert done.code == ExitCode.FAILURE, done.stderr
    assert "differs" in done.stdout
    assert "no longer in its staging directory" in done.stdout


def test_a_failed_submit_of_butido_rust_is_rerun_reusing_what_it_built(
    spaces: tuple[Workspace, str],
) -> None:
    """As in test_rerun: freetype's cached source is corrupted, so freetype fails and fontconfig
    and cairo never run (butido records neither); the cache is repaired before the rerun."""
    space, theirs = spaces
    source = space.data / "sources" / "freetype-2.13.2" / "src.source"
    good = source.read_bytes()
    source.write_bytes(b"corrupted by an interrupted download\n")
    first = space.cli("build", "cairo", "1.18.0", "-I", "tiny", "--no-verify", "--json")
    assert first.code == ExitCode.FAILURE, first.stderr
    original = json.loads(first.stdout)
    planned = {job["package"] for job in original["jobs"]}
    ran = planned - {"fontconfig", "cairo"}
    ours, butido = open_engine(space.url), open_engine(theirs)
    try:
        export_as_butido(ours, butido)
    finally:
        ours.dispose()
        butido.dispose()
    source.write_bytes(good)
    rust = replace(space, url=theirs, _db=None)
    adopted = rust.cli("db", "setup", "--adopt-butido", "--json")
    assert adopted.code == 0, adopted.stderr
    assert json.loads(adopted.stdout)["adopted"]["rows"]["jobs"] == len(ran)

    done = rust.cli("rerun", original["submit"], "--json")
    assert done.code == 0, done.stderr + done.stdout
    assert "recorded by butido (Rust)" in done.stderr
    assert "cairo 1.18.0, fontconfig 2.14.2; they run" in done.stderr
    rerun = json.loads(done.stdout)
    states = {job["package"]: job["state"] for job in rerun["jobs"]}
    assert states == {
        **dict.fromkeys(planned - {"freetype", "fontconfig", "cairo"}, "reused"),
        **dict.fromkeys({"freetype", "fontconfig", "cairo"}, "succeeded"),
    }
    first_jobs = {job["package"]: job["uuid"] for job in original["jobs"]}
    for job in rerun["jobs"]:
        if job["state"] == "reused":
            assert job["reused_from"] == first_jobs[job["package"]]


def test_an_aborted_submit_of_butido_rust_is_failed_and_rerun_runs_what_is_missing(
    spaces: tuple[Workspace, str],
) -> None:
    """Every job butido recorded succeeded, but the root package's is missing (butido aborted
    the run before it): the submit is adopted as failed, and a rerun runs just that job."""
    space, theirs = spaces
    first = space.cli("build", "libpng", "1.6.40", "-I", "tiny", "--json")
    assert first.code == 0, first.stderr
    original = json.loads(first.stdout)
    ours, butido = open_engine(space.url), open_engine(theirs)
    try:
        export_as_butido(ours, butido, without="libpng")
    finally:
        ours.dispose()
        butido.dispose()
    rust = replace(space, url=theirs, _db=None)
    adopted = rust.cli("db", "setup", "--adopt-butido", "--json")
    assert adopted.code == 0, adopted.stderr
    assert json.loads(adopted.stdout)["adopted"]["submits_by_state"] == {"failed": 1}

    done = rust.cli("rerun", original["submit"], "--json")
    assert done.code == 0, done.stderr + done.stdout
    assert "libpng 1.6.40; they run" in done.stderr
    states = {job["package"]: job["state"] for job in json.loads(done.stdout)["jobs"]}
    assert states.pop("libpng") == "succeeded"
    assert states
    assert set(states.values()) == {"reused"}
