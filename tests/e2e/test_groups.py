"""Build groups end to end: one `butido build` over the tests' two base images (the tiny image and
Debian), the real Docker engine, SQLite and PostgreSQL.

expat needs libc, libc needs filesystem: three jobs per image. The fault that fails one image only
is in the repository's root layer: libc's script fails where /etc/debian_version exists (Debian,
not the tiny image), so on Debian libc fails and expat is dep_failed.
"""

from __future__ import annotations

import json
import signal
import time
import uuid

import docker
import pytest

from butido_py.config.model import EndpointConfig
from butido_py.db import groups as db_groups
from butido_py.endpoint.docker_hosts import submit_containers
from butido_py.errors import ExitCode
from butido_py.states import SubmitKind, SubmitState
from tests.helpers.databases import BACKENDS
from tests.helpers.json_schema import validated
from tests.helpers.workspace import Workspace, with_debian_image

pytestmark = pytest.mark.docker

TINY = "butido-tiny:latest"
DEBIAN = "debian:bookworm"
MISSING = "butido-missing:latest"
PACKAGES = {"expat", "libc", "filesystem"}
FAIL_ON_DEBIAN = (
    '    {{phase "sourcecheck"}}\n'
    '    if [ -f /etc/debian_version ] && [ "${BUILD_FLAVOUR:-}" = glibc ]; then\n'
    '        echo "libc does not build on Debian"; exit 1\n'
    "    fi\n"
)


def states(submit: dict[str, object]) -> dict[str, str]:
    jobs = submit["jobs"]
    assert isinstance(jobs, list)
    return {job["package"]: job["state"] for job in jobs}


def test_a_group_over_two_images_builds_both_and_shows_the_matrix(workspace: Workspace) -> None:
    space = with_debian_image(workspace)
    done = space.cli("build", "expat", "2.5.0", "-I", "tiny", "-I", "debian", "--json")
    assert done.code == 0, done.stderr + done.stdout
    report = validated("build", done.stdout)
    assert report["state"] == "succeeded"
    assert [i["image"] for i in report["images"]] == [TINY, DEBIAN]
    assert {s["image"]: set(states(s).values()) for s in report["submits"]} == {
        TINY: {"succeeded"},
        DEBIAN: {"succeeded"},
    }

    group = db_groups.find_group(space.database(), uuid.UUID(report["group"]))
    assert group is not None
    assert group.state is SubmitState.SUCCEEDED
    assert [s.image for s in group.submits] == [TINY, DEBIAN]
    assert (group.package_name, group.package_version) == ("expat", "2.5.0")

    shown = space.cli("db", "group", report["group"], "--wide")
    assert shown.code == 0, shown.stderr
    assert "State:        succeeded" in shown.stdout
    header = next(line for line in shown.stdout.splitlines() if line.startswith("Package "))
    assert header.split() == ["Package", "Version", TINY, DEBIAN]
    row = next(line for line in shown.stdout.splitlines() if line.startswith("libc"))
    assert row.split()[:3] == ["libc", "2.38", "succeeded"]
    assert row.split()[3].endswith("s")  # --wide: the duration
    as_json = validated("db group", space.cli("db", "group", report["group"], "--json").stdout)
    assert [s["image"] for s in as_json["submits"]] == [TINY, DEBIAN]
    assert all({j["package"] for j in s["jobs"]} == PACKAGES for s in as_json["submits"])

    listed = validated("db groups", space.cli("db", "groups", "--json").stdout)
    assert [g["uuid"] for g in listed] == [report["group"]]
    submit = json.loads(space.cli("db", "submit", report["submits"][0]["submit"], "--json").stdout)
    assert submit["group"] == report["group"]
    assert [s["uuid"] for s in submit["siblings"]] == [report["submits"][1]["submit"]]

    rebuilt = space.cli("rebuild", report["group"], "--json")
    assert rebuilt.code == 0, rebuilt.stderr + rebuilt.stdout
    again = validated("rebuild", rebuilt.stdout)
    assert again["original"] == report["group"]
    assert [(s["image"], s["reproduced"]) for s in again["submits"]] == [
        (TINY, True),
        (DEBIAN, True),
    ]


#: On PostgreSQL only: both backends would add 20 s to the suite; the other group tests here
#: that build twice run on SQLite, and the first runs on both.
ON_POSTGRESQL = pytest.mark.parametrize("workspace", [BACKENDS[1]], indirect=True)


@ON_POSTGRESQL
def test_an_image_that_fails_fails_the_group_and_rerun_runs_only_it(
    workspace: Workspace,
) -> None:
    space = with_debian_image(workspace)
    root = space.root / "pkg.toml"
    text = root.read_text()
    anchor = '    {{phase "sourcecheck"}}\n'
    assert anchor in text
    root.write_text(text.replace(anchor, FAIL_ON_DEBIAN, 1))
    space.commit("libc fails on Debian")

    done = space.cli("build", "expat", "2.5.0", "-I", "tiny", "-I", "debian", "--json")
    assert done.code == ExitCode.FAILURE, done.stderr + done.stdout
    report = json.loads(done.stdout)
    assert report["state"] == "failed"
    by_image = {s["image"]: s for s in report["submits"]}
    assert by_image[TINY]["state"] == "succeeded"
    assert by_image[DEBIAN]["state"] == "failed"
    assert states(by_image[DEBIAN]) == {
        "filesystem": "succeeded",
        "libc": "failed",
        "expat": "dep_failed",
    }
    text_report = space.cli("db", "group", report["group"])
    assert "State:        failed" in text_report.stdout

    rerun = space.cli("rerun", report["group"], "--json")
    assert rerun.code == ExitCode.FAILURE, rerun.stderr + rerun.stdout  # the fault is still there
    again = json.loads(rerun.stdout)
    assert [s["image"] for s in again["submits"]] == [DEBIAN]  # tiny succeeded: not run again
    assert states(again["submits"][0]) == {
        "filesystem": "reused",
        "libc": "failed",
        "expat": "dep_failed",
    }
    group = db_groups.find_group(space.database(), uuid.UUID(again["group"]))
    assert group is not None
    assert group.kind is SubmitKind.RERUN
    assert str(group.parent_uuid) == report["group"]
    nothing = space.cli("rerun", report["group"], "--image", "tiny")
    assert nothing.code == ExitCode.USAGE
    assert "nothing to rerun" in nothing.stderr


def test_an_image_the_package_may_not_use_is_refused_alone(sqlite_workspace: Workspace) -> None:
    space = with_debian_image(sqlite_workspace)
    expat = space.root / "libs" / "expat" / "pkg.toml"
    expat.write_text(f'denied_images = ["{DEBIAN}"]\n' + expat.read_text())
    space.commit("expat: not on Debian")

    done = space.cli("build", "expat", "2.5.0", "-I", "tiny", "-I", "debian", "--json")
    assert done.code == ExitCode.REPOSITORY, done.stderr + done.stdout
    report = json.loads(done.stdout)
    images = {i["image"]: i for i in report["images"]}
    assert images[TINY]["state"] == "succeeded"
    assert images[DEBIAN]["submit"] is None
    assert "denied_images" in images[DEBIAN]["error"]
    shown = space.cli("db", "group", report["group"])
    row = next(line for line in shown.stdout.splitlines() if line.startswith("expat"))
    assert row.split()[2:] == ["succeeded", "refused"]

    before = space.cli("db", "submits", "--json").stdout
    strict = space.cli("build", "expat", "2.5.0", "-I", "tiny", "-I", "debian", "--all-or-nothing")
    assert strict.code == ExitCode.REPOSITORY
    assert "may not be built on debian:bookworm" in strict.stderr
    assert "nothing was run" in strict.stderr
    assert space.cli("db", "submits", "--json").stdout == before


def test_all_images_refuses_the_image_no_endpoint_has(sqlite_workspace: Workspace) -> None:
    """--all-images over the tests' configuration: tiny builds, `butido-missing` (no engine has
    it) is refused for itself, Debian (denied to expat) is no image expat may use."""
    space = with_debian_image(sqlite_workspace)
    expat = space.root / "libs" / "expat" / "pkg.toml"
    expat.write_text(f'denied_images = ["{DEBIAN}"]\n' + expat.read_text())
    space.commit("expat: not on Debian")

    done = space.cli("build", "expat", "2.5.0", "--all-images", "--json")
    assert done.code == ExitCode.ENDPOINT, done.stderr + done.stdout
    report = json.loads(done.stdout)
    images = {i["image"]: i for i in report["images"]}
    assert list(images) == [TINY, MISSING]
    assert images[TINY]["state"] == "succeeded"
    assert images[MISSING]["submit"] is None
    assert f"image '{MISSING}' is missing" in images[MISSING]["error"]
    assert report["state"] == "failed"
    shown = space.cli("db", "group", report["group"])
    row = next(line for line in shown.stdout.splitlines() if line.startswith("expat"))
    assert row.split()[2:] == ["succeeded", "refused"]

    before = space.cli("db", "submits", "--json").stdout
    strict = space.cli("build", "expat", "2.5.0", "--all-images", "--all-or-nothing")
    assert strict.code == ExitCode.ENDPOINT, strict.stderr
    assert f"image '{MISSING}' is missing" in strict.stderr
    assert "nothing was run" in strict.stderr
    assert space.cli("db", "submits", "--json").stdout == before


def test_sigterm_cancels_every_image_of_a_group(
    sqlite_workspace: Workspace, docker_endpoint: EndpointConfig
) -> None:
    space = with_debian_image(sqlite_workspace)
    space.add_package("groupsleeper", build='{{phase "build"}}\nsleep 60')
    space.commit()
    process = space.popen("build", "groupsleeper", "1", "-I", "tiny", "-I", "debian")
    try:
        submits = _running_submits(docker_endpoint, "groupsleeper", count=2)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == ExitCode.TERMINATED, stderr
    assert "SIGTERM: canceling the build" in stderr
    assert "Traceback" not in stderr
    assert all(submit_containers(docker_endpoint, submit) == [] for submit in submits)
    (group,) = db_groups.list_groups(space.database(), db_groups.GroupFilter())
    assert group.state is SubmitState.CANCELED
    assert [(s.image, s.state) for s in group.submits] == [
        (TINY, SubmitState.CANCELED),
        (DEBIAN, SubmitState.CANCELED),
    ]
    assert {str(s.uuid) for s in group.submits} == submits
    assert f"Group {group.uuid} canceled: 2 images" in stdout


def _running_submits(endpoint: EndpointConfig, package: str, *, count: int) -> set[str]:
    """The submits of `count` running containers of `package` (waits for them)."""
    client = docker.DockerClient(base_url=endpoint.docker_url)
    try:
        for _ in range(600):
            found = client.containers.list(filters={"label": f"butido.package={package}"})
            if len(found) >= count:
                return {str(c.labels["butido.submit"]) for c in found}
            time.sleep(0.1)
    finally:
        client.close()
    pytest.fail(f"not {count} running containers of {package}")
