"""The checks `butido build` runs before anything is written (pure decisions)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from butido_py.app.build import (
    check_env_names,
    check_images,
    job_environment,
    job_timeouts,
    select_endpoints,
    select_package,
)
from butido_py.config import load_config
from butido_py.config.images import expand_image
from butido_py.config.model import Config
from butido_py.errors import ConfigError, EndpointError, ExitCode, RepositoryError, UsageError
from butido_py.package.model import Package
from butido_py.plan.key_explain import SOURCE_DATE_EPOCH
from butido_py.repository.model import Repository

CONFIG = """\
compatibility = 1
available_phases = ["build"]
[docker]
images = [
    { name = "registry/distro:12", short_name = "distro" },
    { name = "tiny:1", short_name = "t" },
]
[docker.endpoints.a]
uri = "unix:///a.sock"
endpoint_type = "socket"
maxjobs = 2
[docker.endpoints.b]
uri = "unix:///b.sock"
endpoint_type = "socket"
maxjobs = 1
[containers]
check_env_names = true
allowed_env = ["CFLAGS", "COMMIT"]
git_commit_hash = "COMMIT"
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    (tmp_path / ".git").mkdir()
    (tmp_path / "config.toml").write_text(CONFIG)
    return load_config(cwd=tmp_path, environ={"HOME": str(tmp_path)}).config


def package(name: str, version: str = "1", **fields: object) -> Package:
    base = Package(
        name=name,
        version=version,
        version_is_semver=False,
        sources=(),
        build_dependencies=(),
        runtime_dependencies=(),
        patches=(),
        phases=(),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def repository(*packages: Package) -> Repository:
    return Repository(
        root=Path("/repo"),
        commit="c0ffee" * 6 + "abcd",
        commit_time=1_700_000_000,
        dirty=False,
        packages=packages,
    )


def test_select_package_exact_and_single_version() -> None:
    repo = repository(package("zlib", "1.3"), package("zlib", "1.3.1"), package("hello"))
    assert select_package(repo, "zlib", "=1.3.1").version == "1.3.1"
    assert select_package(repo, "hello", None).name == "hello"


def test_select_package_refuses_ambiguity_and_unknown_names() -> None:
    repo = repository(package("zlib", "1.3"), package("zlib", "1.3.1"))
    with pytest.raises(RepositoryError, match="has 2 versions") as many:
        select_package(repo, "zlib", None)
    assert many.value.hint is not None
    assert "1.3, 1.3.1" in many.value.hint
    with pytest.raises(RepositoryError, match=r"zlib 9 not found") as missing:
        select_package(repo, "zlib", "9")
    assert missing.value.hint == "versions of zlib: 1.3, 1.3.1"
    with pytest.raises(RepositoryError, match="nope not found"):
        select_package(repo, "nope", None)


def test_expand_image_takes_full_or_short_names_and_lists_the_known(config: Config) -> None:
    assert expand_image(config, "distro") == "registry/distro:12"
    assert expand_image(config, "tiny:1") == "tiny:1"
    with pytest.raises(UsageError) as error:
        expand_image(config, "x")
    assert str(error.value) == (
        "unknown image 'x'; known images: registry/distro:12 (distro), tiny:1 (t)"
    )
    assert error.value.exit_code == ExitCode.USAGE


def test_allowed_and_denied_images() -> None:
    check_images([package("a", allowed_images=("tiny:1",))], "tiny:1")
    with pytest.raises(RepositoryError, match="not in allowed_images"):
        check_images([package("a", allowed_images=("tiny:1",))], "other")
    with pytest.raises(RepositoryError, match="is in denied_images"):
        check_images([package("a", denied_images=("tiny:1",))], "tiny:1")


def test_environment_cli_over_package_then_git_and_source_date_epoch(config: Config) -> None:
    pkg = package("a", environment=(("CFLAGS", "-O1"), ("KEEP", "x")))
    repo = repository(pkg)
    env = dict(job_environment(pkg, [("CFLAGS", "-O2")], config, repo))
    assert env == {
        "CFLAGS": "-O2",
        "KEEP": "x",
        "COMMIT": repo.commit,
        SOURCE_DATE_EPOCH: "1700000000",
    }


def test_env_names_must_be_allowed_except_source_date_epoch() -> None:
    check_env_names(package("a"), [("CFLAGS", "1"), (SOURCE_DATE_EPOCH, "0")], ["CFLAGS"])
    with pytest.raises(ConfigError, match="name not allowed: KEEP \\(package a 1\\)"):
        check_env_names(package("a"), [("KEEP", "x")], ["CFLAGS"])


def test_endpoint_selection(config: Config) -> None:
    assert [e.name for e in select_endpoints(config, [])] == ["a", "b"]
    assert [e.name for e in select_endpoints(config, ["b"])] == ["b"]
    with pytest.raises(ConfigError, match="unknown endpoint 'c'") as error:
        select_endpoints(config, ["c"])
    assert error.value.hint == "configured endpoints: a, b"


def test_disabled_endpoints_are_left_out_and_cannot_be_pinned(config: Config) -> None:
    off = frozenset({"b"})
    assert [e.name for e in select_endpoints(config, [], off)] == ["a"]
    assert [e.name for e in select_endpoints(config, ["a"], off)] == ["a"]
    with pytest.raises(EndpointError, match=r"^endpoint 'b' is disabled$") as pinned:
        select_endpoints(config, ["a", "b"], off)
    assert pinned.value.hint == "butido endpoint enable b"
    with pytest.raises(EndpointError, match=r"every endpoint is disabled \(a, b\)") as every:
        select_endpoints(config, [], frozenset({"a", "b"}))
    assert every.value.hint == "butido endpoint enable a"


def test_job_timeouts_command_line_over_package_meta_over_configuration() -> None:
    slow = package("slow", meta=(("job_timeout", "2h"),))
    plain = package("plain")
    assert job_timeouts([slow, plain], None, None) == {("slow", "1"): 7200.0}
    assert job_timeouts([slow, plain], None, 60.0) == {("slow", "1"): 7200.0, ("plain", "1"): 60.0}
    assert job_timeouts([slow, plain], 2.0, 60.0) == {("slow", "1"): 2.0, ("plain", "1"): 2.0}


def test_a_bad_meta_job_timeout_names_the_package() -> None:
    with pytest.raises(RepositoryError, match=r"slow 1 .*meta job_timeout"):
        job_timeouts([package("slow", meta=(("job_timeout", "later"),))], None, None)
