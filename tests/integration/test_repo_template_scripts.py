"""repo-template's scripts in real containers: each job checks its source, patches and the
artifacts of its dependencies, so a build proves that artifacts were passed on."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from butido_py.config.model import EndpointConfig
from butido_py.endpoint.docker_job import ContainerSpec, InputFile, job_container
from butido_py.package.model import Package
from butido_py.repository.git_init import (
    TEMPLATE_SOURCES,
    copy_template,
    find_template,
    init_and_commit,
)
from butido_py.repository.load import load_repository
from butido_py.repository.model import Repository
from butido_py.script.render import render_script
from butido_py.sources.cache import SourceCache
from butido_py.stores.staging import extract_outputs
from tests.conftest import TINY_IMAGE

pytestmark = pytest.mark.docker

PHASES = ("sourcecheck", "patchcheck", "depcheck", "build")


@dataclass(frozen=True)
class JobRun:
    code: int
    log: str
    artifact: Path | None


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Repository:
    root = tmp_path_factory.mktemp("template") / "repo"
    copy_template(find_template(), root)
    init_and_commit(root, "template")
    return load_repository(root)


def package(repository: Repository, name: str, version: str) -> Package:
    found = repository.find(name, version)
    assert found is not None
    return found


def run_job(
    endpoint: EndpointConfig,
    repository: Repository,
    pkg: Package,
    artifacts: Sequence[Path],
    out: Path,
    *,
    env: Mapping[str, str] | None = None,
    source: Path | None = None,
) -> JobRun:
    """One job as the container contract describes it (DESIGN.md §3)."""
    script = render_script(pkg, phases=PHASES, shebang="#!/bin/bash", strict=True)
    (entry,) = SourceCache(find_template() / TEMPLATE_SOURCES).entries([pkg])
    inputs = [
        InputFile("/script", data=script.encode(), mode=0o755),
        InputFile(f"/inputs/{entry.path.name}", source or entry.path),
        *(InputFile(f"/patches/{p}", data=repository.patch_contents[p]) for p in pkg.patches),
        *(InputFile(f"/inputs/{a.name}", a) for a in artifacts),
    ]
    environment = [*(pkg.environment or ()), *(env or {}).items()]
    name = f"butido-test-{pkg.name}-{uuid.uuid4()}"
    spec = ContainerSpec(TINY_IMAGE, name, {"butido.test": "1"}, environment, inputs=inputs)
    with job_container(endpoint, spec) as job:
        job.start()
        log = b"".join(job.output()).decode()
        code = job.wait()
        if "#BUTIDO:STATE:OK" not in log:
            return JobRun(code, log, None)
        staged = extract_outputs(job.outputs_archive(), out, job=name)
    assert [s.path for s in staged] == [f"{pkg.name}-{pkg.version}.pkg"]
    return JobRun(code, log, out / staged[0].path)


def test_a_chain_passes_its_artifacts_on(
    docker_endpoint: EndpointConfig, repository: Repository, tmp_path: Path
) -> None:
    artifacts: list[Path] = []
    for name, version in [("filesystem", "1.0"), ("libc", "2.38"), ("make", "4.4.1"),
                          ("zlib", "1.3.1")]:  # fmt: skip
        run = run_job(
            docker_endpoint, repository, package(repository, name, version), artifacts, tmp_path
        )
        assert run.code == 0, run.log
        assert run.log.rstrip().endswith("#BUTIDO:STATE:OK")
        assert run.artifact is not None
        artifacts.append(run.artifact)

    libc = artifacts[1].read_text().splitlines()
    assert libc[0] == "package libc 2.38"
    assert "env BUILD_FLAVOUR=glibc" in libc
    assert "patch base/libc/libc-locale.patch sha256:" in "\n".join(libc)
    zlib = artifacts[3].read_text().splitlines()
    sha = {a.name: hashlib.sha256(a.read_bytes()).hexdigest() for a in artifacts[:3]}
    assert [line for line in zlib if line.startswith(("input ", "env "))] == [
        f"input filesystem-1.0.pkg sha256:{sha['filesystem-1.0.pkg']}",
        f"input libc-2.38.pkg sha256:{sha['libc-2.38.pkg']}",
        f"input make-4.4.1.pkg sha256:{sha['make-4.4.1.pkg']}",
        "env BUILD_ZLIB_COMPAT=1",
        "env BUILD_ZLIB_VARIANT=current",
    ]


def test_a_missing_dependency_artifact_fails_the_job(
    docker_endpoint: EndpointConfig, repository: Repository, tmp_path: Path
) -> None:
    run = run_job(docker_endpoint, repository, package(repository, "libc", "2.38"), [], tmp_path)
    assert run.code == 1
    assert "No artifact of the dependency filesystem 1.0 in /inputs" in run.log
    assert "#BUTIDO:STATE:ERR:Missing dependency artifact" in run.log


def test_a_wrong_source_fails_the_job(
    docker_endpoint: EndpointConfig, repository: Repository, tmp_path: Path
) -> None:
    tampered = tmp_path / "src.source"
    tampered.write_bytes(b"not the source\n")
    hello = package(repository, "hello", "2.12.1")
    run = run_job(docker_endpoint, repository, hello, [], tmp_path, source=tampered)
    assert run.code == 1
    assert "#BUTIDO:STATE:ERR:Source hash mismatch" in run.log


def test_builds_are_reproducible(
    docker_endpoint: EndpointConfig, repository: Repository, tmp_path: Path
) -> None:
    hello = package(repository, "hello", "2.12.1")
    first = run_job(docker_endpoint, repository, hello, [], tmp_path / "1")
    second = run_job(docker_endpoint, repository, hello, [], tmp_path / "2")
    assert first.artifact is not None
    assert second.artifact is not None
    assert first.artifact.read_bytes() == second.artifact.read_bytes()


def fake_artifact(directory: Path, name: str, version: str) -> Path:
    path = directory / f"{name}-{version}.pkg"
    path.write_text(f"package {name} {version}\n")
    return path


def test_a_conditional_dependency_must_match_its_condition(
    docker_endpoint: EndpointConfig, repository: Repository, tmp_path: Path
) -> None:
    desktop = package(repository, "desktop", "1.0")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    deps = [fake_artifact(inputs, "pkgconf", "2.1.0"), fake_artifact(inputs, "gtk-lite", "3.24.38")]
    docs = fake_artifact(inputs, "docs-extra", "1.0")

    without_docs = run_job(docker_endpoint, repository, desktop, deps, tmp_path / "a")
    assert without_docs.code == 0, without_docs.log
    unexpected = run_job(docker_endpoint, repository, desktop, [*deps, docs], tmp_path / "b")
    assert "#BUTIDO:STATE:ERR:Unexpected dependency artifact" in unexpected.log
    missing = run_job(
        docker_endpoint, repository, desktop, deps, tmp_path / "c", env={"WITH_DOCS": "1"}
    )
    assert "#BUTIDO:STATE:ERR:Missing dependency artifact" in missing.log
    with_docs = run_job(
        docker_endpoint, repository, desktop, [*deps, docs], tmp_path / "d", env={"WITH_DOCS": "1"}
    )
    assert with_docs.code == 0, with_docs.log
