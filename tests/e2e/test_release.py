"""`butido release new|rm|list` end to end on SQLite and PostgreSQL.

A submit with artifacts is recorded through the database layer and its files are put into a real
staging directory (sha256 recorded), as a build leaves them. Most commands run in this process
(the same `run` as `main`); the ones that must prove no prompt blocks without a terminal run
`python -m butido_py` with stdin from /dev/null.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from butido_py.cli.context import AppContext
from butido_py.cli.main import run
from butido_py.db import artifacts, jobs, submits
from butido_py.db.database import open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.db.models import SUBMITS
from butido_py.db.records import ArtifactInput, PlannedJob, PlannedSubmit
from butido_py.db.releases import ReleaseFilter, list_releases
from butido_py.errors import ExitCode
from butido_py.states import SubmitState
from butido_py.stores.release_store import TEMP_PREFIX
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.json_schema import validated
from tests.helpers.mounts import tmpfs

SUBMIT = uuid.UUID("5b000000-0000-4000-8000-0000000000a1")
CONFIG = """\
compatibility = 1
available_phases = ["build"]
staging = "{data}/staging"
releases_root = "{data}/releases"
release_stores = ["stable", "testing"]
"""
#: package, version -> the files its job left in /outputs.
OUTPUTS = {
    ("app", "1.0"): {"app-1.0.deb": b"app deb\n", "app-1.0.dsc": b"app dsc\n"},
    ("lib", "1.0"): {"lib-1.0.tar.gz": b"lib 1.0\n"},
    ("lib", "1.0.1"): {"lib-1.0.1.tar.gz": b"lib 1.0.1\n"},
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Done:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, object]:
        data = json.loads(self.stdout)
        assert isinstance(data, dict)
        return data


@dataclass(frozen=True)
class Space:
    url: str
    repo: Path
    data: Path
    capsys: pytest.CaptureFixture[str]

    @property
    def staging(self) -> Path:
        return self.data / "staging" / str(SUBMIT)

    def store(self, name: str = "stable") -> Path:
        return self.data / "releases" / name

    def __call__(self, *args: str) -> Done:
        app = AppContext()
        code = run(app, list(args))
        if app._database is not None:
            app._database.close()
        out = self.capsys.readouterr()
        return Done(code, out.out, out.err)

    def subprocess(self, *args: str) -> Done:
        """The real command, stdin not a terminal."""
        done = subprocess.run(
            [sys.executable, "-m", "butido_py", *args],
            cwd=self.repo,
            env=dict(os.environ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Done(done.returncode, done.stdout, done.stderr)

    def releases(self) -> list[tuple[str, str, str]]:
        db = open_database(self.url)
        try:
            found = list_releases(db, ReleaseFilter())
        finally:
            db.close()
        return sorted((r.store, r.package_name, r.artifact_path) for r in found)


def seed_submit(url: str, staging: Path) -> None:
    """A succeeded submit whose three jobs left four files in staging."""
    db = open_database(url)
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    planned = [
        PlannedJob(uuid.uuid4(), name, version, "tiny:1", "#!/bin/bash\n")
        for name, version in OUTPUTS
    ]
    submits.record_plan(
        db,
        PlannedSubmit(SUBMIT, now, "tiny:1", "app", "1.0", "a" * 40),
        planned,
    )
    for job, files in zip(planned, OUTPUTS.values(), strict=True):
        jobs.mark_queued(db, job.uuid, at=now)
        jobs.mark_running(db, job.uuid, endpoint="ep", at=now)
        jobs.mark_succeeded(db, job.uuid, at=now, exit_code=0, log_text="#BUTIDO:STATE:OK")
        for name, data in files.items():
            (staging / name).write_bytes(data)
        artifacts.record_artifacts(
            db, job.uuid, [ArtifactInput(n, sha(d), len(d)) for n, d in files.items()]
        )
    submits.finish_submit(db, SUBMIT, SubmitState.SUCCEEDED, at=now)
    db.close()


@pytest.fixture(params=BACKENDS)
def space(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Space]:
    repo, data = tmp_path / "repo", tmp_path / "data"
    (repo / ".git").mkdir(parents=True)
    (repo / "config.toml").write_text(CONFIG.format(data=data))
    (data / "staging" / str(SUBMIT)).mkdir(parents=True)
    with fresh_database_url(request.param, tmp_path, postgres_url) as url:
        engine = open_engine(url)
        setup_schema(engine)
        engine.dispose()
        seed_submit(url, data / "staging" / str(SUBMIT))
        for key in list(os.environ):
            if key.startswith(("BUTIDO_", "XDG_")):
                monkeypatch.delenv(key)
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("NO_COLOR", "1")
        monkeypatch.setenv("BUTIDO_DATABASE_URL", url)
        monkeypatch.chdir(repo)
        yield Space(url, repo, data, capsys)


def store_digests(store: Path) -> dict[str, str]:
    return {p.name: sha(p.read_bytes()) for p in store.iterdir()}


ALL_FILES = {name: sha(data) for files in OUTPUTS.values() for name, data in files.items()}
S = str(SUBMIT)


def test_release_list_rm_and_update(space: Space) -> None:
    done = space("release", "new", S, "--to", "stable", "--json")
    assert done.code == 0, done.stderr
    result = validated("release new", done.stdout)
    released = result["released"]
    assert isinstance(released, list)
    assert sorted(r["path"] for r in released) == sorted(ALL_FILES)
    assert all(r["sha256"] == ALL_FILES[r["path"]] for r in released)
    assert result["skipped"] == result["failed"] == []
    assert store_digests(space.store()) == ALL_FILES

    listed = validated("release list", space("release", "list", "--json").stdout)
    assert sorted(r["file"] for r in listed) == sorted(str(space.store() / n) for n in ALL_FILES)
    assert {r["store"] for r in listed} == {"stable"}

    again = space("release", "new", S, "--to", "stable", "--json")
    assert again.code == 0, again.stderr
    assert again.json()["released"] == []
    skipped = again.json()["skipped"]
    assert isinstance(skipped, list)
    assert len(skipped) == len(ALL_FILES)
    assert all(str(s["reason"]).startswith("already released on ") for s in skipped)

    removed = space("release", "rm", "--from", "stable", "app", "1.0", "--yes")
    assert removed.code == 0, removed.stderr
    assert "Going to delete: " in removed.stderr
    assert sorted(p.name for p in space.store().iterdir()) == ["lib-1.0.1.tar.gz", "lib-1.0.tar.gz"]
    assert [r[2] for r in space.releases()] == ["lib-1.0.1.tar.gz", "lib-1.0.tar.gz"]

    update = space("release", "new", S, "--to", "stable", "--update", "--yes", "--json")
    assert update.code == 0, update.stderr
    by_artifact = {r["path"]: r for r in update.json()["released"]}  # type: ignore[attr-defined]
    assert set(by_artifact) == set(ALL_FILES)
    assert by_artifact["lib-1.0.tar.gz"]["updated"] is True
    assert by_artifact["app-1.0.deb"]["updated"] is False  # it was removed: a plain release
    assert store_digests(space.store()) == ALL_FILES
    assert len(space.releases()) == len(ALL_FILES) + 2  # the lib files were released twice
    assert not [p for p in space.store().iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_text_output_quiet_and_filters(space: Space) -> None:
    done = space("release", "new", S, "app", "--to", "testing")
    assert done.code == 0, done.stderr
    assert done.stdout.splitlines() == [
        str(space.store("testing") / "app-1.0.deb"),
        str(space.store("testing") / "app-1.0.dsc"),
    ]
    quiet = space("release", "new", S, "--to", "testing", "-q")
    assert quiet.code == 0, quiet.stderr
    assert quiet.stdout == quiet.stderr == ""
    assert store_digests(space.store("testing")) == ALL_FILES
    plain = space("release", "list", "--to", "testing", "-p", "app", "--csv", "--no-header")
    assert sorted(line.split(",")[0] for line in plain.stdout.splitlines()) == ["app", "app"]


def test_versions_match_exactly(space: Space) -> None:
    done = space("release", "new", S, "lib", "1.0", "--to", "stable", "--json")
    assert done.code == 0, done.stderr
    assert [r["path"] for r in done.json()["released"]] == ["lib-1.0.tar.gz"]  # type: ignore[attr-defined]
    wildcard = space("release", "new", S, "lib", "1.0%", "--to", "stable")
    assert wildcard.code == ExitCode.STORE
    assert "no matching artifacts found to release" in wildcard.stderr
    assert "lib 1.0%" in wildcard.stderr


def test_unknown_store_submit_and_package(space: Space) -> None:
    store = space("release", "new", S, "--to", "nightly")
    assert store.code == ExitCode.STORE
    assert "release store 'nightly' is not configured" in store.stderr
    assert "stable, testing" in store.stderr
    assert "Traceback" not in store.stderr
    assert not space.store("nightly").exists()
    submit = space("release", "new", str(uuid.uuid4()), "--to", "stable")
    assert submit.code == ExitCode.DATABASE
    assert "no submit" in submit.stderr
    rm_store = space("release", "rm", "--from", "nightly", "app", "1.0", "--yes")
    assert rm_store.code == ExitCode.STORE
    assert "stable, testing" in rm_store.stderr
    rm_missing = space("release", "rm", "--from", "stable", "app", "9", "--yes")
    assert rm_missing.code == ExitCode.STORE
    assert "no release of app 9 in release store 'stable'" in rm_missing.stderr


def test_different_file_in_store_refuses_the_release_unless_update_confirmed(space: Space) -> None:
    space.store().mkdir(parents=True)
    foreign = space.store() / "app-1.0.deb"
    foreign.write_bytes(b"someone else's deb\n")
    done = space("release", "new", S, "--to", "stable", "--json")
    assert done.code == ExitCode.STORE
    assert done.stdout == ""
    assert (
        f"release refused: 1 file(s) in release store 'stable' differ from the artifacts of "
        f"submit {S}: {foreign}" in done.stderr
    )
    assert "--update" in done.stderr
    assert sorted(p.name for p in space.store().iterdir()) == ["app-1.0.deb"]  # nothing written
    assert space.releases() == []
    assert foreign.read_bytes() == b"someone else's deb\n"

    refused = space.subprocess("release", "new", S, "--to", "stable", "--update")
    assert refused.code == ExitCode.FAILURE
    assert "stdin is not a terminal" in refused.stderr
    assert "--yes" in refused.stderr
    assert foreign.read_bytes() == b"someone else's deb\n"

    confirmed = space.subprocess("release", "new", S, "app", "--to", "stable", "--update", "-y")
    assert confirmed.code == 0, confirmed.stderr
    assert "Going to update: " in confirmed.stderr
    assert sorted(store_digests(space.store()).items()) == sorted(
        (n, d) for n, d in ALL_FILES.items() if n.startswith("app")
    )


def test_identical_file_in_store_is_a_no_op_in_one_line(space: Space) -> None:
    space.store().mkdir(parents=True)
    (space.store() / "app-1.0.deb").write_bytes(OUTPUTS["app", "1.0"]["app-1.0.deb"])
    done = space("release", "new", S, "app", "--to", "stable")
    assert done.code == 0, done.stderr
    assert done.stdout.splitlines() == [str(space.store() / "app-1.0.dsc")]
    assert done.stderr.splitlines() == [
        "1 artifact(s) already in release store 'stable' (identical files, left as they are)"
    ]
    again = space("release", "new", S, "app", "--to", "stable")
    assert again.code == 0, again.stderr
    assert again.stdout == ""
    line = "nothing to do: 2 artifact(s) already in release store 'stable' (identical files, left"
    assert again.stderr.splitlines() == [f"{line} as they are)"]
    assert [r[2] for r in space.releases()] == ["app-1.0.dsc"]  # the no-op records nothing


@pytest.mark.parametrize("state", [SubmitState.FAILED, SubmitState.RUNNING])
def test_a_submit_that_did_not_succeed_needs_force(space: Space, state: SubmitState) -> None:
    engine = open_engine(space.url)
    with engine.begin() as connection:
        connection.execute(
            update(SUBMITS).where(SUBMITS.c.uuid == SUBMIT).values(state=state.value)
        )
    engine.dispose()
    refused = space("release", "new", S, "--to", "stable")
    assert refused.code == ExitCode.STORE
    assert f"submit {S} is {state}, not succeeded" in refused.stderr
    assert "--force" in refused.stderr
    assert not space.store().exists()
    forced = space("release", "new", S, "--to", "stable", "--force", "-q")
    assert forced.code == 0, forced.stderr
    assert store_digests(space.store()) == ALL_FILES


def test_release_list_shows_submit_job_and_sha256(space: Space) -> None:
    assert space("release", "new", S, "lib", "1.0", "--to", "stable", "-q").code == 0
    listed = json.loads(space("release", "list", "--json").stdout)
    assert len(listed) == 1
    row = listed[0]
    assert (row["submit"], row["sha256"]) == (S, ALL_FILES["lib-1.0.tar.gz"])
    assert uuid.UUID(row["job"])
    csv_line = space("db", "releases", "--csv").stdout.strip().split(",")
    assert csv_line[0:2] == ["lib", "1.0"]
    assert csv_line[-3:] == [S, row["job"], ALL_FILES["lib-1.0.tar.gz"]]
    plain = space("db", "releases").stdout.split()  # piped: butido's four columns come first
    assert plain[0:2] == ["lib", "1.0"]
    assert plain[-3:] == [S, row["job"], ALL_FILES["lib-1.0.tar.gz"]]


def test_changed_staging_file_is_not_released(space: Space) -> None:
    (space.staging / "lib-1.0.tar.gz").write_bytes(b"tampered\n")
    (space.staging / "app-1.0.dsc").unlink()
    done = space("release", "new", S, "--to", "stable", "--json")
    assert done.code == ExitCode.STORE
    failed = {f["path"]: f["reason"] for f in done.json()["failed"]}  # type: ignore[attr-defined]
    assert "does not match its recorded sha256" in failed["lib-1.0.tar.gz"]
    assert "is not a file" in failed["app-1.0.dsc"]
    assert sorted(p.name for p in space.store().iterdir()) == ["app-1.0.deb", "lib-1.0.1.tar.gz"]
    assert [r[2] for r in space.releases()] == ["app-1.0.deb", "lib-1.0.1.tar.gz"]


def test_rm_is_not_done_without_confirmation(space: Space) -> None:
    assert space("release", "new", S, "--to", "stable", "-q").code == 0
    refused = space.subprocess("release", "rm", "--from", "stable", "lib", "1.0")
    assert refused.code == ExitCode.FAILURE
    assert "stdin is not a terminal" in refused.stderr
    assert (space.store() / "lib-1.0.tar.gz").is_file()
    assert len(space.releases()) == len(ALL_FILES)
    (space.store() / "lib-1.0.tar.gz").unlink()  # gone by hand: the records still go
    done = space("release", "rm", "--from", "stable", "lib", "1.0", "--yes", "--json")
    assert done.code == 0, done.stderr
    assert validated("release rm", done.stdout)["already_missing"] == [
        str(space.store() / "lib-1.0.tar.gz")
    ]
    assert done.json()["removed_releases"] == 1
    assert [r[2] for r in space.releases()] == ["app-1.0.deb", "app-1.0.dsc", "lib-1.0.1.tar.gz"]


def test_a_read_only_release_store_stops_before_anything_is_recorded(space: Space) -> None:
    with tmpfs(space.store(), "size=1m", "ro"):
        done = space("release", "new", S, "--to", "stable")
    assert done.code == ExitCode.STORE, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: release store 'stable' {space.store()} is not writable: Read-only file system"
    ]
    assert space.releases() == []
    assert list(space.store().iterdir()) == []
