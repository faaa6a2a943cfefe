"""`find-artifact` against real builds (real Docker engine, SQLite and PostgreSQL): it lists
exactly the artifacts `butido build` would reuse."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from butido_py.app.build import BuildRequest
from butido_py.app.find_artifact import FindArtifactRequest, FindArtifactResult, find_artifacts
from butido_py.config.model import EndpointConfig
from butido_py.errors import RepositoryError, UsageError
from butido_py.orchestrator.model import BuildResult
from butido_py.repository.load import load_repository
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.json_schema import validated
from tests.helpers.workspace import Workspace, make_workspace

pytestmark = pytest.mark.docker

TOP = BuildRequest(name="fa-top", version="1", image="tiny")


def _mid_script(text: str) -> str:
    """fa-mid's build phase (its artifact starts with the line fa-top's depcheck looks for)."""
    return (
        f'{{{{phase "build"}}}}\nmkdir -p /outputs\n'
        f"printf 'package fa-mid 1\\n{text}\\n' > /outputs/fa-mid-1.pkg"
    )


def _add_tree(space: Workspace, mid_text: str = "mid one") -> None:
    """fa-top needs fa-mid needs fa-base; fa-mid writes `mid_text`."""
    space.add_package("fa-base")
    space.add_package("fa-mid", build=_mid_script(mid_text), depends=["fa-base 1"])
    space.add_package("fa-top", depends=["fa-mid 1"])


@pytest.fixture(params=BACKENDS)
def space(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_url: str,
    docker_endpoint: EndpointConfig,
) -> Iterator[Workspace]:
    with fresh_database_url(request.param, tmp_path, postgres_url) as url:
        workspace = make_workspace(tmp_path, [replace(docker_endpoint, maxjobs=2)], url)
        _add_tree(workspace)
        workspace.commit("find-artifact tree")
        yield workspace
        workspace.close()


def _find(space: Workspace, regex: str = "^fa-", **options: object) -> FindArtifactResult:
    request = replace(FindArtifactRequest(regex), **options)  # type: ignore[arg-type]
    return find_artifacts(
        request, config=space.config(), repository=space.repository(), db=space.database()
    )


def _by_package(result: FindArtifactResult) -> dict[str, set[tuple[str, str, str]]]:
    found: dict[str, set[tuple[str, str, str]]] = {}
    for a in result.artifacts:
        found.setdefault(a.package, set()).add((a.path, a.sha256, a.location))
    return found


def _created(build: BuildResult) -> dict[str, tuple[str, str]]:
    return {a.path.split("-1.pkg")[0]: (a.path, a.sha256) for a in build.created}


def test_finds_exactly_the_artifacts_build_would_reuse(space: Workspace) -> None:
    assert _find(space, image="tiny").artifacts == ()  # nothing built yet
    build = space.run(TOP)
    assert build.state == "succeeded"
    created = _created(build)

    result = _find(space, image="tiny")
    assert _by_package(result) == {
        name: {(path, sha, "staging")} for name, (path, sha) in created.items()
    }
    for artifact in result.artifacts:
        assert artifact.chosen is True
        assert artifact.file == build.staging_dir / artifact.path
        assert hashlib.sha256(artifact.file.read_bytes()).hexdigest() == artifact.sha256
        assert artifact.release_date is None
        assert artifact.submit == build.submit_uuid
    # Without -I: every image the package was built in (here the one).
    assert _by_package(_find(space)) == _by_package(result)
    # The git commit variable is part of the environment, as in the build (butido's #4).
    assert space.config().containers.git_commit_hash == "GIT_COMMIT_HASH"

    # Released: listed in the store too, with its release date.
    released = space.cli(
        "release", "new", str(build.submit_uuid), "fa-base", "1", "--to", "default"
    )
    assert released.code == 0, released.stderr
    cli = space.cli("find-artifact", "fa-base", "-I", "tiny", "--json")
    assert cli.code == 0, cli.stderr
    rows = validated("find-artifact", cli.stdout)
    assert {(r["location"], r["sha256"]) for r in rows} == {
        ("staging", created["fa-base"][1]),
        ("default", created["fa-base"][1]),
    }
    store_row = next(r for r in rows if r["location"] == "default")
    assert store_row["file"] == str(space.data / "releases" / "default" / "fa-base-1.pkg")
    assert store_row["path"] == "fa-base-1.pkg"
    assert store_row["released_at"] is not None
    assert store_row["job"] == next(str(a.job) for a in result.artifacts if a.package == "fa-base")

    # --allow-dirty: the keys follow the work tree's scripts.
    _add_tree(space, mid_text="mid dirty")
    dirty = find_artifacts(
        FindArtifactRequest("^fa-", image="tiny"),
        config=space.config(),
        repository=load_repository(space.root, allow_dirty=True),
        db=space.database(),
    )
    assert {a.package for a in dirty.artifacts} == {"fa-base"}
    _add_tree(space)  # back to the commit

    # A staged file that changed is no artifact of its job: not listed, and its dependents
    # cannot be reused either (a build would run fa-mid again).
    (build.staging_dir / created["fa-mid"][0]).write_text("modified\n")
    after = _by_package(_find(space, image="tiny"))
    assert set(after) == {"fa-base"}
    assert after["fa-base"] == {
        (created["fa-base"][0], created["fa-base"][1], "staging"),
        (created["fa-base"][0], created["fa-base"][1], "default"),
    }


@pytest.fixture
def same_time_space(tmp_path: Path, docker_endpoint: EndpointConfig) -> Iterator[Workspace]:
    """Without git_commit_hash, and every commit at the same time (so SOURCE_DATE_EPOCH, part of
    every job's environment, stays): keys can match across commits."""
    workspace = make_workspace(
        tmp_path, [replace(docker_endpoint, maxjobs=2)], f"sqlite:///{tmp_path / 'f.sqlite'}"
    )
    config = workspace.root / "config.toml"
    config.write_text(config.read_text().replace('git_commit_hash = "GIT_COMMIT_HASH"\n', ""))
    _add_tree(workspace)
    _commit_same_time(workspace, "find-artifact tree")
    yield workspace
    workspace.close()


def _commit_same_time(space: Workspace, message: str) -> None:
    def git(*args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
            cwd=space.root,
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        return done.stdout.strip()

    when = f"@{git('log', '-1', '--format=%ct')} +0000"
    git("add", "--all")
    environ = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "PATH": "/usr/bin:/bin"}
    git("commit", "-q", "--no-verify", "-m", message, env=environ)


def test_a_changed_script_hides_the_package_and_its_dependents(
    same_time_space: Workspace,
) -> None:
    space = same_time_space
    first = space.run(TOP)
    assert first.state == "succeeded"
    created = _created(first)
    assert set(_by_package(_find(space, image="tiny"))) == {"fa-base", "fa-mid", "fa-top"}

    _add_tree(space, mid_text="mid two")
    _commit_same_time(space, "fa-mid changed")
    result = _find(space, image="tiny")
    assert _by_package(result) == {"fa-base": {(*created["fa-base"], "staging")}}
    base_job = result.artifacts[0].job

    # -S ignores the script (and the inputs): the old fa-mid and fa-top are candidates.
    loose = _find(space, image="tiny", script_filter=False)
    assert _by_package(loose) == {
        name: {(path, sha, "staging")} for name, (path, sha) in created.items()
    }
    assert {a.chosen for a in loose.artifacts} == {None}

    # The build agrees: it reuses fa-base from that very job and runs the others.
    second = space.run(TOP)
    states = {j.package: (j.state, j.reused_from) for j in second.jobs}
    assert states == {
        "fa-base": ("reused", base_job),
        "fa-mid": ("succeeded", None),
        "fa-top": ("succeeded", None),
    }
    # fa-mid's output changed, so fa-top's key did too; now both are found, from the new build.
    again = _find(space, "^fa-(mid|top)$", image="tiny")
    assert {a.submit for a in again.artifacts} == {second.submit_uuid}
    assert {a.package for a in again.artifacts} == {"fa-mid", "fa-top"}


def test_user_errors(space: Workspace) -> None:
    with pytest.raises(RepositoryError, match="no package matches 'nothing-like-this'"):
        _find(space, "nothing-like-this")
    with pytest.raises(UsageError, match="unknown image 'nope'"):
        _find(space, image="nope")
    with pytest.raises(UsageError, match="invalid regular expression"):
        _find(space, "(")
    cli = space.cli("find-artifact", "fa-base", "-I", "nope")
    assert cli.code != 0
    assert "error: unknown image 'nope'" in cli.stderr
    assert "Traceback" not in cli.stderr
    cli = space.cli("find-artifact", "fa-base", "--staging-dir", str(space.data / "absent"))
    assert cli.code != 0
    assert "no such directory" in cli.stderr
    cli = space.cli("find-artifact", "fa-base")
    assert cli.code == 0
    assert "never built" in cli.stderr


def test_a_missing_sqlite_database_is_created(
    tmp_path: Path, docker_endpoint: EndpointConfig
) -> None:
    missing = tmp_path / "missing.sqlite"
    workspace = make_workspace(tmp_path, [docker_endpoint], f"sqlite:///{tmp_path / 'x.sqlite'}")
    workspace.url = f"sqlite:///{missing}"
    cli = workspace.cli("find-artifact", ".")
    assert cli.code == 0, cli.stderr
    assert f"created the database {missing}" in cli.stderr
    assert missing.exists()
