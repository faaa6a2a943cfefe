"""Job keys: equal inputs give equal keys; every input that matters changes the key."""

from __future__ import annotations

import dataclasses

import pytest

from butido_py.plan.job_key import JobKeyInputs, job_key

BASE = JobKeyInputs(
    name="zlib",
    version="1.3",
    script="#!/bin/bash\necho build\n",
    image_digest="sha256:" + "a" * 64,
    environment=[("A", "1"), ("B", "2")],
    sources=[("src", "sha256", "b" * 64)],
    patches=[("zlib/fix.patch", "c" * 64), ("zlib/1.3/more.patch", "d" * 64)],
    input_artifacts=["e" * 64, "f" * 64],
)


def test_key_is_a_sha256_and_stable() -> None:
    key = job_key(BASE)
    assert len(key) == 64
    assert int(key, 16) >= 0
    assert job_key(dataclasses.replace(BASE)) == key


def test_meaningless_orders_do_not_change_the_key() -> None:
    shuffled = dataclasses.replace(
        BASE,
        environment=[("B", "2"), ("A", "1")],
        input_artifacts=["f" * 64, "e" * 64, "e" * 64],
    )
    assert job_key(shuffled) == job_key(BASE)


@pytest.mark.parametrize(
    "change",
    [
        {"name": "zlib-ng"},
        {"version": "1.3.1"},
        {"script": "#!/bin/bash\necho build \n"},
        {"image_digest": "sha256:" + "0" * 64},
        {"environment": [("A", "1"), ("B", "3")]},
        {"environment": [("A", "1")]},
        {"sources": [("src", "sha256", "0" * 64)]},
        {"patches": [("zlib/1.3/more.patch", "d" * 64), ("zlib/fix.patch", "c" * 64)]},
        {"patches": [("zlib/fix.patch", "0" * 64), ("zlib/1.3/more.patch", "d" * 64)]},
        {"input_artifacts": ["e" * 64]},
    ],
)
def test_every_input_changes_the_key(change: dict[str, object]) -> None:
    assert job_key(dataclasses.replace(BASE, **change)) != job_key(BASE)  # type: ignore[arg-type]
