"""A package repository for build tests: a copy of repo-template committed into a tmp git repo,
with a config.toml whose data directories and database live in tmp dirs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from butido_py.app.build import BuildRequest, prepare_build, run_build
from butido_py.config import load_config
from butido_py.config.model import Config, EndpointConfig
from butido_py.db.database import Database, open_database
from butido_py.db.engine import open_engine
from butido_py.db.migrate import setup_schema
from butido_py.orchestrator.model import BuildResult, JobEvent, PreparedBuild
from butido_py.orchestrator.run import BuildRun
from butido_py.repository.git_init import copy_template, find_template, init_and_commit
from butido_py.repository.load import load_repository
from butido_py.repository.model import Repository
from butido_py.sources.cache import import_cache_tree

CONFIG = """\
compatibility = 1
staging = "{data}/staging"
source_cache = "{data}/sources"
releases_root = "{data}/releases"
log_dir = "{data}/logs"
release_stores = ["default"]
available_phases = ["sourcecheck", "patchcheck", "depcheck", "build"]
shebang = "#!/bin/bash"
build_error_lines = 5

[docker]
images = [
    {{ name = "butido-tiny:latest", short_name = "tiny" }},
    {{ name = "butido-missing:latest", short_name = "missing" }},
]
{endpoints}
[containers]
check_env_names = true
allowed_env = ["BUILD_CFLAGS", "BUILD_FLAVOUR", "BUILD_ZLIB_COMPAT", "BUILD_ZLIB_VARIANT",
               "GIT_COMMIT_HASH", "WITH_DOCS"]
git_commit_hash = "GIT_COMMIT_HASH"
"""

ENDPOINT = """
[docker.endpoints.{name}]
uri = "{uri}"
endpoint_type = "{kind}"
maxjobs = {maxjobs}
network_mode = "none"
timeout = 10
"""


def endpoints_toml(endpoints: Sequence[EndpointConfig]) -> str:
    return "".join(
        ENDPOINT.format(name=e.name, uri=e.uri, kind=e.endpoint_type, maxjobs=e.maxjobs)
        for e in endpoints
    )


@dataclass(frozen=True)
class Cli:
    code: int
    stdout: str
    stderr: str


class Events:
    """A build listener that keeps every event."""

    def __init__(self) -> None:
        self.events: list[JobEvent] = []
        self.prepared: PreparedBuild | None = None
        self._lock = threading.Lock()

    def started(self, prepared: PreparedBuild) -> None:
        self.prepared = prepared

    def event(self, event: JobEvent) -> None:
        with self._lock:
            self.events.append(event)

    def finished(self) -> None:
        return


@dataclass
class Workspace:
    root: Path
    data: Path
    url: str
    home: Path
    _db: Database | None = field(default=None, repr=False)

    @property
    def environ(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.data / "xdg"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "BUTIDO_DATABASE_URL": self.url,
        }

    def config(self) -> Config:
        return load_config(cwd=self.root, environ=self.environ).config

    def repository(self) -> Repository:
        return load_repository(self.root)

    def database(self) -> Database:
        if self._db is None:
            self._db = open_database(self.url)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    def write(self, relative: str, text: str) -> None:
        (self.root / relative).write_text(text)

    def add_package(
        self,
        name: str,
        version: str = "1",
        *,
        build: str | None = None,
        depends: Sequence[str] = (),
    ) -> None:
        """A package under pkgs/NAME with its source in the cache; `build` replaces the build
        phase's script (it must `mkdir -p /outputs` itself)."""
        source = f"source of {name} {version}\n".encode()
        cache = self.data / "sources" / f"{name}-{version}"
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "src.source").write_bytes(source)
        lines = [
            f'name = "{name}"',
            f'version = "{version}"',
            "[dependencies]",
            f"runtime = {list(depends)!r}".replace("'", '"'),
            "[sources.src]",
            f'url = "http://127.0.0.1:8765/{name}-{version}/src.source"',
            f'hash.hash = "{hashlib.sha256(source).hexdigest()}"',
        ]
        if build is not None:
            lines += ["[phases.build]", f"script = '''\n{build}\n'''"]
        directory = self.root / "pkgs" / name
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "pkg.toml").write_text("\n".join(lines) + "\n")

    def commit(self, message: str = "change") -> None:
        for args in (["add", "--all"], ["commit", "-q", "--no-verify", "-m", message]):
            subprocess.run(
                ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
                cwd=self.root,
                check=True,
                capture_output=True,
            )

    def prepare(self, request: BuildRequest) -> PreparedBuild:
        return prepare_build(
            request, config=self.config(), repository=self.repository(), warn=lambda _: None
        )

    def run(self, request: BuildRequest, listener: Events | None = None) -> BuildResult:
        return self.start(request, listener).run()

    def start(self, request: BuildRequest, listener: Events | None = None) -> BuildRun:
        return run_build(self.prepare(request), self.database(), listener or Events())

    def cli(self, *args: str, timeout: float = 180) -> Cli:
        done = subprocess.run(
            [sys.executable, "-m", "butido_py", *args],
            cwd=self.root,
            env={**clean_environ(), **self.environ},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Cli(done.returncode, done.stdout, done.stderr)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "butido_py", *args],
            cwd=self.root,
            env={**clean_environ(), **self.environ},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def clean_environ() -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BUTIDO_", "XDG_")) and key != "DOCKER_HOST"
    } | {"NO_COLOR": "1"}


def make_workspace(tmp_path: Path, endpoints: Sequence[EndpointConfig], url: str) -> Workspace:
    root = tmp_path / "repo"
    data = tmp_path / "data"
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    template = find_template()
    copy_template(template, root)
    (root / "config.toml").write_text(CONFIG.format(data=data, endpoints=endpoints_toml(endpoints)))
    init_and_commit(root, "test repository")
    import_cache_tree(template / "sources", data / "sources")
    engine = open_engine(url)
    try:
        setup_schema(engine)
    finally:
        engine.dispose()
    return Workspace(root=root, data=data, url=url, home=home)


DEBIAN = '    { name = "debian:bookworm", short_name = "debian" },\n'


def with_debian_image(space: Workspace) -> Workspace:
    """The workspace's configuration also names the Debian image (`-I debian`)."""
    config = space.root / "config.toml"
    text = config.read_text()
    anchor = '    { name = "butido-missing:latest", short_name = "missing" },\n'
    assert anchor in text
    config.write_text(text.replace(anchor, anchor + DEBIAN))
    space.commit("the Debian image")
    return space


def built(space: Workspace, *args: str) -> str:
    done = space.cli("build", *args, "--json")
    assert done.code == 0, done.stderr
    return str(json.loads(done.stdout)["submit"])
