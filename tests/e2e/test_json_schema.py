"""Every `db` command's `--json` output validates against the schemas of docs/json.md, and the
validator itself rejects what it must."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.test_db_commands import J2, J6, J9, S1, S2, Cli, cli, inline
from tests.helpers.json_schema import errors, schemas

__all__ = ["cli", "inline"]

SCHEMAS = schemas()

#: arguments after `butido db` -> the entity (a list of them when the output is a list).
OUTPUTS: dict[tuple[str, ...], tuple[str, bool]] = {
    ("submits", "--json"): ("submit", True),
    ("submits", "--json", "--kind", "rerun"): ("submit", True),
    ("submit", S2, "--json"): ("submit", False),
    ("jobs", "--json", "--all"): ("job", True),
    ("jobs", "-S", S1, "--json"): ("job", True),
    ("job", J9, "--json", "-L"): ("job", False),
    ("job", J6, "--json", "--explain"): ("job", False),
    ("artifacts", "--json"): ("artifact", True),
    ("artifacts", "-J", J2, "--json"): ("artifact", True),
    ("releases", "--json"): ("release", True),
}


@pytest.mark.parametrize("args", list(OUTPUTS), ids=[" ".join(a[:2]) for a in OUTPUTS])
def test_every_json_output_validates(inline: Cli, args: tuple[str, ...]) -> None:
    done = inline("db", *args)
    assert done.code == 0, done.stderr
    entity, is_list = OUTPUTS[args]
    data: Any = json.loads(done.stdout)
    items = data if is_list else [data]
    assert items
    problems = [e for item in items for e in errors(item, SCHEMAS[entity])]
    if entity == "submit" and not is_list:  # its jobs are job objects
        problems += [e for job in data["jobs"] for e in errors(job, SCHEMAS["job"], "$.jobs")]
    assert problems == []


def test_the_validator_rejects_what_it_must() -> None:
    release = {"package": "a", "version": "1", "store": "s", "path": "p", "file": "f",
               "released_at": "2024-01-10T10:00:00+00:00", "sha256": None,
               "submit": "5b000000-0000-4000-8000-000000000001",
               "job": "10b00000-0000-4000-8000-000000000001"}  # fmt: skip
    assert errors(release, SCHEMAS["release"]) == []
    assert errors({**release, "released_at": "2024-01-10T10:00:00"}, SCHEMAS["release"]) == [
        "$.released_at: '2024-01-10T10:00:00' has no zone"
    ]
    assert errors({**release, "package": 1}, SCHEMAS["release"]) == [
        "$.package: 1 is not of type ['string']"
    ]
    del release["file"]
    assert errors(release, SCHEMAS["release"]) == ["$: missing 'file'"]
    assert set(SCHEMAS) == {"submit", "job", "artifact", "release"}
    del release["sha256"]
    assert errors(release, SCHEMAS["release"]) == ["$: missing 'file'", "$: missing 'sha256'"]


def test_history_builds_are_job_objects(inline: Cli) -> None:
    data = json.loads(inline("db", "history", "base", "--json").stdout)
    assert data["builds"]
    assert [e for job in data["builds"] for e in errors(job, SCHEMAS["job"])] == []
