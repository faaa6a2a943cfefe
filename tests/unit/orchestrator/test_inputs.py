"""The /inputs namespace: butido's flat layout, and collisions refused with both origins."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from butido_py.orchestrator.container_run import container_inputs
from butido_py.orchestrator.inputs import InputCollisionError, inputs_layout, needed_inputs
from butido_py.orchestrator.model import Artifact, BuildJob
from tests.unit.orchestrator.test_container_run import job

D1 = uuid.UUID(int=1)
D2 = uuid.UUID(int=2)


def with_needs(tmp_path: Path) -> tuple[BuildJob, dict[uuid.UUID, BuildJob]]:
    root = replace(job(tmp_path), transitive=(D1, D2))
    d1 = replace(job(tmp_path), uuid=D1, package=replace(root.package, name="d1"))
    d2 = replace(job(tmp_path), uuid=D2, package=replace(root.package, name="d2"))
    return root, {D1: d1, D2: d2}


def made(path: str, by: uuid.UUID, tmp_path: Path) -> Artifact:
    return Artifact(None, path, tmp_path / by.hex / path, "0" * 64, made_by=by)


def test_names_that_do_not_collide_keep_the_flat_layout(tmp_path: Path) -> None:
    root, jobs = with_needs(tmp_path)
    artifacts = {D1: [made("sub/a.pkg", D1, tmp_path)], D2: [made("b.pkg", D2, tmp_path)]}
    layout = needed_inputs(root, jobs, artifacts)
    assert [i.container_path for i in layout] == [
        "/inputs/src.source",
        "/inputs/a.pkg",
        "/inputs/b.pkg",
    ]
    assert layout[1].file == tmp_path / D1.hex / "sub/a.pkg"


def test_an_artifact_named_like_a_source_is_refused(tmp_path: Path) -> None:
    root, jobs = with_needs(tmp_path)
    with pytest.raises(InputCollisionError) as info:
        needed_inputs(root, jobs, {D1: [made("src.source", D1, tmp_path)]})
    message = str(info.value)
    assert "\n" not in message
    assert f"job {root.uuid} (zlib 1.0): /inputs/src.source would hold both" in message
    assert "source 'src' of zlib 1.0" in message
    assert f"artifact 'src.source' of d1 1.0 (job {D1})" in message


def test_two_artifacts_with_one_base_name_are_refused(tmp_path: Path) -> None:
    root, jobs = with_needs(tmp_path)
    artifacts = {D1: [made("d1/same.txt", D1, tmp_path)], D2: [made("d2/same.txt", D2, tmp_path)]}
    with pytest.raises(InputCollisionError) as info:
        needed_inputs(root, jobs, artifacts)
    assert str(info.value).endswith(
        f"/inputs/same.txt would hold both artifact 'd1/same.txt' of d1 1.0 (job {D1}) "
        f"and artifact 'd2/same.txt' of d2 1.0 (job {D2})"
    )


def test_one_dependency_with_two_files_of_one_base_name_is_refused(tmp_path: Path) -> None:
    root, _ = with_needs(tmp_path)
    pairs = [("d1", made("x/same", D1, tmp_path)), ("d1", made("y/same", D1, tmp_path))]
    with pytest.raises(InputCollisionError, match="artifact 'x/same' of d1 and artifact 'y/same'"):
        inputs_layout(root, pairs)


def test_the_container_time_guard_refuses_too(tmp_path: Path) -> None:
    artifacts = [made("src.source", D1, tmp_path)]
    with pytest.raises(InputCollisionError, match=rf"artifact 'src.source' of job {D1}"):
        container_inputs(job(tmp_path), artifacts, {"libs/zlib/fix.patch": b""})


def test_a_hostile_name_is_escaped_in_the_message(tmp_path: Path) -> None:
    root, _ = with_needs(tmp_path)
    pairs = [("d1", made("a/x\nforged", D1, tmp_path)), ("d2", made("b/x\nforged", D2, tmp_path))]
    with pytest.raises(InputCollisionError) as info:
        inputs_layout(root, pairs)
    assert "\n" not in str(info.value)
    assert "/inputs/x\\nforged" in str(info.value)
