"""Explanations: which components of a job's key differ from an earlier job's."""

from __future__ import annotations

from typing import Any

from butido_py.package.model import HashType, Package, Source
from butido_py.plan.job_key import job_key_of, key_document_of, key_of_document
from butido_py.plan.key_explain import Component, KeyDocument, differences, explain

LIBC = "libc 2.38: libc.tar"
ZLIB = Package(
    name="zlib",
    version="1.3",
    version_is_semver=False,
    sources=(Source("src", "https://example.invalid/z.tar", HashType.SHA256, "ab" * 32),),
    build_dependencies=(),
    runtime_dependencies=(),
    patches=(),
    phases=(),
)


def document(**changes: Any) -> KeyDocument:
    values: dict[str, Any] = {
        "script": "#!/bin/bash\necho build\n",
        "image_digest": "sha256:aaa",
        "env": [("SOURCE_DATE_EPOCH", "100"), ("WITH_DOCS", "yes")],
        "patch_contents": {},
        "input_sha256s": ["1" * 64],
    }
    values.update(changes)
    origins = dict.fromkeys(values["input_sha256s"], LIBC)
    return KeyDocument(key_document_of(ZLIB, **values), origins)


def components(now: KeyDocument, then: KeyDocument) -> list[Component]:
    return [change.component for change in differences(now, then)]


def test_the_document_hashes_to_the_job_key() -> None:
    base = document()
    key = job_key_of(
        ZLIB,
        script="#!/bin/bash\necho build\n",
        image_digest="sha256:aaa",
        env=[("SOURCE_DATE_EPOCH", "100"), ("WITH_DOCS", "yes")],
        patch_contents={},
        input_sha256s=["1" * 64],
    )
    assert key_of_document(base.key) == key


def test_each_component_is_named() -> None:
    base = document()
    assert components(base, base) == []
    assert components(document(script="echo other"), base) == [Component.SCRIPT]
    assert components(document(image_digest="sha256:bbb"), base) == [Component.IMAGE]
    epoch = document(env=[("SOURCE_DATE_EPOCH", "200"), ("WITH_DOCS", "yes")])
    assert components(epoch, base) == [Component.EPOCH]
    env = document(env=[("SOURCE_DATE_EPOCH", "100"), ("WITH_DOCS", "no"), ("X", "1")])
    (change,) = differences(env, base)
    assert change.component is Component.ENV
    assert change.detail == "environment: +X, WITH_DOCS changed"


def test_a_changed_input_names_the_dependency_that_made_it() -> None:
    (change,) = differences(document(input_sha256s=["2" * 64]), document())
    assert change.component is Component.INPUT
    assert change.detail == f"input artifacts: {LIBC} differs"


def test_the_nearest_earlier_job_is_the_one_with_fewest_differences() -> None:
    now = document(script="echo new")
    earlier = [
        ("newest", document(script="echo x", image_digest="sha256:ccc")),
        ("older", document()),
    ]
    other, changes = explain(now, earlier, "zlib 1.3")
    assert other == "older"
    assert [c.component for c in changes] == [Component.SCRIPT]
    none, first = explain(now, [], "zlib 1.3")
    assert none is None
    assert first[0].component is Component.NEW


def test_documents_survive_json() -> None:
    base = document()
    again = KeyDocument.from_json(base.to_json())
    assert again == base
    assert KeyDocument.from_json("not json") is None
