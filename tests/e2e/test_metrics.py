"""`butido metrics` on the repo-template with a seeded database, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from butido_py import __version__
from butido_py.db.database import open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.repository.git_init import copy_template, find_template, init_and_commit
from tests.e2e.conftest import Runner
from tests.helpers.databases import BACKENDS, fresh_database_url
from tests.helpers.json_schema import validated
from tests.helpers.seed import seed

CONFIG = """\
compatibility = 1
available_phases = ["sourcecheck", "patchcheck", "build"]
release_stores = ["stable", "testing"]

[docker]
images = [{ name = "butido-tiny:latest", short_name = "tiny" }]
[docker.endpoints.one]
uri = "unix:///var/run/docker.sock"
endpoint_type = "socket"
maxjobs = 1
[docker.endpoints.two]
uri = "unix:///var/run/docker.sock"
endpoint_type = "socket"
maxjobs = 1
"""


@pytest.fixture
def template_repo(repo: Path) -> Path:
    """The e2e `repo` directory, replaced by a committed copy of the repo-template."""
    (repo / ".git").rmdir()
    (repo / "config.toml").unlink()
    copy_template(find_template(), repo)
    (repo / "config.toml").write_text(CONFIG)
    init_and_commit(repo, "template")
    return repo


@pytest.fixture(params=BACKENDS)
def seeded_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path, postgres_url) as url:
        engine = open_engine(url)
        setup_schema(engine)
        engine.dispose()
        db = open_database(url)
        seed(db)
        db.close()
        yield url


def test_metrics_json(butido: Runner, template_repo: Path, seeded_url: str) -> None:
    done = butido("metrics", "--json", env={"BUTIDO_DATABASE_URL": seeded_url})
    assert done.code == 0, done.stderr
    figures = validated("metrics", done.stdout)
    assert figures["version"] == __version__
    assert figures["configuration"] == {
        "endpoints": 2, "images": 1, "release_stores": 2, "phases": 3,
    }  # fmt: skip
    pkg_tomls = len(list(template_repo.rglob("pkg.toml")))
    assert figures["repository"]["pkg_toml_files"] == pkg_tomls
    assert figures["repository"]["packages"] == 26
    assert len(figures["repository"]["commit"]) == 40
    tables = figures["database"]["tables"]
    assert (tables["submits"], tables["jobs"], tables["artifacts"], tables["releases"]) == (
        3, 9, 4, 2,
    )  # fmt: skip
    assert tables["rebuild_results"] == 0
    assert figures["jobs_by_state"]["succeeded"] == 4
    assert figures["jobs_by_state"]["lost"] == 0
    assert sum(figures["jobs_by_state"].values()) == 9


def test_metrics_text(butido: Runner, template_repo: Path, seeded_url: str) -> None:
    done = butido("metrics", env={"BUTIDO_DATABASE_URL": seeded_url})
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"butido_py {__version__}"
    for heading in ("Configuration:", "Repository:", "Database:", "Jobs by state:"):
        assert heading in lines
    assert "  release stores:       2" in lines
    assert "  packages:             26" in lines
    assert any(line.startswith("  pkg.toml files:") for line in lines)
    assert "  jobs:                 9" in lines
    assert "  dep_failed:           1" in lines


def test_metrics_sets_up_the_embedded_database(butido: Runner, template_repo: Path) -> None:
    done = butido("metrics")
    assert done.code == 0, done.stderr
    assert any(line.startswith("created the database ") for line in done.stderr.splitlines())
    assert "  jobs:                 0" in done.stdout.splitlines()
