"""repo-template's scripts in real containers: each job checks its source, patches and the
artifacts of its dependencies, so a build proves that artifacts were passed on; hello-c compiles
a C program reproducibly on debian:bookworm, clock is never the same twice."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
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
from tests.plugins.services import TINY_IMAGE

pytestmark = pytest.mark.docker

PHASES = ("sourcecheck", "patchcheck", "depcheck", "build")
#: Built by scripts/images with gcc, libc6-dev and make.
DEBIAN_IMAGE = "debian:bookworm"
#: What `butido build` would pass (the commit time); fixed here so two runs can be compared.
EPOCH = "1700000000"


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
    image: str = TINY_IMAGE,
) -> JobRun:
    """One job as the container contract describes it (DESIGN.md §3); its one artifact is
    NAME-VERSION.pkg, or NAME-VERSION.tar.gz (hello-c)."""
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
    spec = ContainerSpec(image, name, {"butido.test": "1"}, environment, inputs=inputs)
    with job_container(endpoint, spec) as job:
        job.start()
        log = b"".join(job.output()).decode()
        code = job.wait()
        if "#BUTIDO:STATE:OK" not in log:
            return JobRun(code, log, None)
        staged = extract_outputs(job.outputs_archive(), out, job=name)
    (artifact,) = [s.path for s in staged]
    assert artifact in {f"{pkg.name}-{pkg.version}.pkg", f"{pkg.name}-{pkg.version}.tar.gz"}
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


def hello_c_inputs(directory: Path) -> list[Path]:
    """Artifacts of hello-c's dependencies (depcheck checks their package lines)."""
    directory.mkdir()
    return [
        fake_artifact(directory, name, version)
        for name, version in [("filesystem", "1.0"), ("libc", "2.38"), ("make", "4.4.1")]
    ]


def test_hello_c_compiles_runs_and_is_reproducible_on_debian(
    docker_endpoint: EndpointConfig, repository: Repository, tmp_path: Path
) -> None:
    hello_c = package(repository, "hello-c", "1.0")
    deps = hello_c_inputs(tmp_path / "inputs")
    env = {"SOURCE_DATE_EPOCH": EPOCH}
    runs = [
        run_job(docker_endpoint, repository, hello_c, deps, tmp_path / str(n), env=env,
                image=DEBIAN_IMAGE)
        for n in (1, 2)
    ]  # fmt: skip
    tarballs: list[Path] = []
    for run in runs:
        assert run.code == 0, run.log
        assert "hello-c runs and prints what it should: Hello, world! | crc32" in run.log
        assert run.artifact is not None
        assert run.artifact.name == "hello-c-1.0.tar.gz"
        tarballs.append(run.artifact)
    first, second = (t.read_bytes() for t in tarballs)
    assert first == second

    # gzip -n: no file name, no time stamp in the header.
    assert first[3] & 0x08 == 0
    assert first[4:8] == b"\0\0\0\0"
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(first))) as archive:
        members = archive.getmembers()
        names = [m.name for m in members]
        assert names == sorted(names)
        assert {"./.PKGINFO", "./usr/bin/hello-c"} <= set(names)
        assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {
            (int(EPOCH), 0, 0, "", "")
        }
        info = archive.extractfile("./.PKGINFO")
        binary = archive.extractfile("./usr/bin/hello-c")
        assert info is not None
        assert binary is not None
        pkginfo = info.read().decode().splitlines()
        elf = binary.read()
    assert elf.startswith(b"\x7fELF")
    assert pkginfo[0] == "package hello-c 1.0"
    assert f"file usr/bin/hello-c sha256:{hashlib.sha256(elf).hexdigest()}" in pkginfo
    assert any(line.startswith("cflags -O2 ") and "-ffile-prefix-map=" in line for line in pkginfo)
    assert [line for line in pkginfo if line.startswith("input ")] == [
        f"input {d.name} sha256:{hashlib.sha256(d.read_bytes()).hexdigest()}" for d in deps
    ]
    assert b"/tmp/build-hello-c" not in elf  # the build directory is mapped away

    # desktop on Debian takes the tarball as hello-c's artifact and runs the program in it.
    desktop = package(repository, "desktop", "1.0")
    desktop_deps = [
        fake_artifact(tmp_path / "inputs", name, version)
        for name, version in [("pkgconf", "2.1.0"), ("gtk-lite", "3.24.38"),
                              ("debian-compat", "1.0")]
    ]  # fmt: skip
    with_c = run_job(docker_endpoint, repository, desktop, [*desktop_deps, tarballs[0]],
                     tmp_path / "desktop", env=env, image=DEBIAN_IMAGE)  # fmt: skip
    assert with_c.code == 0, with_c.log
    assert "usr/bin/hello-c of hello-c 1.0 runs: Hello, desktop!" in with_c.log
    assert with_c.artifact is not None
    assert (
        f"input hello-c-1.0.tar.gz sha256:{hashlib.sha256(first).hexdigest()}"
        in with_c.artifact.read_text().splitlines()
    )
    without_c = run_job(docker_endpoint, repository, desktop, desktop_deps,
                        tmp_path / "desktop2", env=env, image=DEBIAN_IMAGE)  # fmt: skip
    assert without_c.code == 1
    assert "No artifact of the dependency hello-c 1.0 in /inputs" in without_c.log


def test_hello_c_needs_the_c_tool_chain(
    docker_endpoint: EndpointConfig, repository: Repository, tmp_path: Path
) -> None:
    hello_c = package(repository, "hello-c", "1.0")
    deps = hello_c_inputs(tmp_path / "inputs")
    run = run_job(
        docker_endpoint, repository, hello_c, deps, tmp_path, env={"SOURCE_DATE_EPOCH": EPOCH}
    )
    assert run.code == 1
    assert "No gcc in this image" in run.log
    assert "#BUTIDO:STATE:ERR:No C tool chain in the image" in run.log


def test_clock_is_never_the_same_twice(
    docker_endpoint: EndpointConfig, repository: Repository, tmp_path: Path
) -> None:
    clock = package(repository, "clock", "1.0")
    first = run_job(docker_endpoint, repository, clock, [], tmp_path / "1")
    second = run_job(docker_endpoint, repository, clock, [], tmp_path / "2")
    assert first.artifact is not None, first.log
    assert second.artifact is not None, second.log
    one, two = first.artifact.read_text(), second.artifact.read_text()
    assert one.startswith("package clock 1.0\n")
    assert one != two
    stamps = [
        next(line.split()[1] for line in text.splitlines() if line.startswith("built-at "))
        for text in (one, two)
    ]
    assert all(float(stamp) > 1.6e9 for stamp in stamps)
    assert stamps[0] != stamps[1]
