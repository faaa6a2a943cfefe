"""Why a job ran: the components of its key that differ from an earlier job of the same package
version (`build --explain`, `build --dry-run`, `db job --explain`).

A recorded key document is `{"key": <the hashed document of plan/job_key.py>, "inputs_of":
{sha256: "<package> <version>: <path>"}}`: the second part names where each input artifact came
from, so that a changed input is reported as the dependency that made it. It is not hashed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: Set for every job; butido_py's own variable, so it is not subject to `allowed_env`.
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"


class Component(StrEnum):
    """What changed between two keys of one package version."""

    NEW = "new"
    SCRIPT = "script"
    IMAGE = "image"
    ENV = "env"
    EPOCH = "epoch"
    SOURCES = "sources"
    PATCHES = "patches"
    INPUT = "input"
    KEY_FORMAT = "key-format"
    #: Nothing differs: reuse was off (--no-reuse), or the earlier job's artifacts are gone.
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Change:
    component: Component
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"component": str(self.component), "detail": self.detail}


@dataclass(frozen=True, slots=True)
class KeyDocument:
    """A job's key components and where its inputs came from."""

    key: Mapping[str, Any]
    inputs_of: Mapping[str, str]

    def to_json(self) -> str:
        return json.dumps(
            {"key": self.key, "inputs_of": self.inputs_of}, sort_keys=True, ensure_ascii=False
        )

    @staticmethod
    def from_json(text: str) -> KeyDocument | None:
        """None for a document this version cannot read."""
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("key"), dict):
            return None
        inputs_of = data.get("inputs_of")
        return KeyDocument(data["key"], inputs_of if isinstance(inputs_of, dict) else {})


def differences(current: KeyDocument, earlier: KeyDocument) -> list[Change]:
    """Every component of `current`'s key that is not as in `earlier`'s."""
    now, then = current.key, earlier.key
    if now.get("v") != then.get("v"):
        return [Change(Component.KEY_FORMAT, "recorded by a butido_py with another key format")]
    changes: list[Change] = []
    if now.get("script") != then.get("script"):
        changes.append(Change(Component.SCRIPT, "the rendered script differs"))
    if now.get("image") != then.get("image"):
        changes.append(Change(Component.IMAGE, f"image {then.get('image')} → {now.get('image')}"))
    changes += _env_changes(_pairs(now.get("env")), _pairs(then.get("env")))
    if now.get("sources") != then.get("sources"):
        changes.append(Change(Component.SOURCES, _listed_changes(now, then, "sources")))
    if now.get("patches") != then.get("patches"):
        changes.append(Change(Component.PATCHES, _listed_changes(now, then, "patches")))
    changes += _input_changes(current, earlier)
    return changes


def nearest(
    current: KeyDocument, earlier: Sequence[tuple[str, KeyDocument]]
) -> tuple[str, list[Change]] | None:
    """The earlier job (id, newest first in `earlier`) whose key differs in fewest components."""
    best: tuple[str, list[Change]] | None = None
    for job, document in earlier:
        changes = differences(current, document)
        if best is None or len(changes) < len(best[1]):
            best = (job, changes)
    return best


def explain(
    current: KeyDocument, earlier: Sequence[tuple[str, KeyDocument]], label: str
) -> tuple[str | None, list[Change]]:
    """(the earlier job compared with, why the job could not reuse it)."""
    found = nearest(current, earlier)
    if found is None:
        return None, [Change(Component.NEW, f"no earlier successful job of {label}")]
    other, changes = found
    if not changes:
        detail = "reuse was off (--no-reuse) or its artifacts were gone"
        changes = [Change(Component.UNAVAILABLE, detail)]
    return other, changes


def describe(other: object | None, changes: Sequence[Change]) -> str:
    """`changes` in one line, against the job `other` they were found by comparing with."""
    details = "; ".join(change.detail for change in changes)
    if other is None:
        return details
    if [change.component for change in changes] == [Component.UNAVAILABLE]:
        return f"the same key as job {other}, but {details}"
    return f"differs from job {other}: {details}"


def _pairs(value: object) -> dict[str, str]:
    if not isinstance(value, list):
        return {}
    return {str(pair[0]): str(pair[1]) for pair in value if isinstance(pair, list) and pair}


def _env_changes(now: Mapping[str, str], then: Mapping[str, str]) -> list[Change]:
    changes = []
    if now.get(SOURCE_DATE_EPOCH) != then.get(SOURCE_DATE_EPOCH):
        changes.append(
            Change(
                Component.EPOCH,
                f"SOURCE_DATE_EPOCH {then.get(SOURCE_DATE_EPOCH)} → {now.get(SOURCE_DATE_EPOCH)}"
                " (a file the package is made from changed, or the date policy)",
            )
        )
    names = (set(now) | set(then)) - {SOURCE_DATE_EPOCH}
    added = sorted(n for n in names if n not in then)
    removed = sorted(n for n in names if n not in now)
    altered = sorted(n for n in names if n in now and n in then and now[n] != then[n])
    parts = (
        [f"+{n}" for n in added] + [f"-{n}" for n in removed] + [f"{n} changed" for n in altered]
    )
    if parts:
        changes.append(Change(Component.ENV, "environment: " + ", ".join(parts)))
    return changes


def _listed_changes(now: Mapping[str, Any], then: Mapping[str, Any], field: str) -> str:
    before = {str(item[0]): item for item in then.get(field) or []}
    after = {str(item[0]): item for item in now.get(field) or []}
    names = sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))
    return f"{field}: " + (", ".join(names) if names else "order changed")


def _input_changes(current: KeyDocument, earlier: KeyDocument) -> list[Change]:
    now = set(current.key.get("inputs") or [])
    then = set(earlier.key.get("inputs") or [])
    if now == then:
        return []
    new = sorted(current.inputs_of.get(sha, f"sha256 {sha[:12]}") for sha in now - then)
    gone = sorted(earlier.inputs_of.get(sha, f"sha256 {sha[:12]}") for sha in then - now)
    changed, only_new, only_gone = _pair_by_origin(new, gone)
    parts = [f"{item} differs" for item in changed]
    parts += [f"{item} is new" for item in only_new]
    parts += [f"{item} is no longer an input" for item in only_gone]
    return [Change(Component.INPUT, "input artifacts: " + "; ".join(parts))]


def _pair_by_origin(new: list[str], gone: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Inputs with the same origin label on both sides changed content."""
    both = sorted(set(new) & set(gone))
    return both, [i for i in new if i not in both], [i for i in gone if i not in both]
