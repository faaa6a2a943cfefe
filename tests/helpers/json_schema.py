"""A small JSON Schema validator (the subset docs/json.md uses: type, enum, required,
properties, additionalProperties as a schema, items, format uuid/date-time, $ref to another block
of the page), the schemas read from docs/json.md, and which schema each command's `--json` output
follows."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "json.md"

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


#: command (its words after `butido`) -> (the schema of docs/json.md its `--json` output
#: follows, whether the output is a list of them). tests/e2e/test_json_schema.py fails when a
#: command with `--json` is missing here or no e2e test calls `validated` with it.
COMMANDS: dict[str, tuple[str, bool]] = {
    "db submits": ("submit", True),
    "db submit": ("submit", False),
    "db jobs": ("job", True),
    "db job": ("job", False),
    "db artifacts": ("artifact", True),
    "db releases": ("release", True),
    "release list": ("release", True),
    "db envvars": ("envvar", True),
    "db images": ("image", True),
    "db log-of": ("log", False),
    "db history": ("history", False),
    "db group": ("group", False),
    "db groups": ("group", True),
    "endpoint list": ("endpoint", True),
    "endpoint stats": ("endpoint", True),
    "endpoint enable": ("endpoint", False),
    "endpoint disable": ("endpoint", False),
    "build": ("build|build_group|dry_run", False),
    "rerun": ("build|build_group", False),
    "rebuild": ("build|build_group", False),
    "release new": ("release_new", False),
    "release rm": ("release_rm", False),
    "endpoint ping": ("ping", False),
    "config check": ("config_check", False),
    "config show": ("config_show", False),
    "metrics": ("metrics", False),
    "db setup": ("setup", False),
    "tree-of": ("tree", True),
    "what-depends": ("dependency", True),
    "dependencies-of": ("dependency", True),
    "versions-of": ("version", True),
    "env-of": ("package_env", False),
    "find-pkg": ("package", True),
    "find-artifact": ("found_artifact", True),
    "source verify": ("source", True),
    "source url": ("source", True),
    "source of": ("source", True),
    "source list-missing": ("source", True),
    "endpoint containers list": ("container", True),
    "endpoint containers top": ("process", True),
    "endpoint container top": ("process", True),
    "endpoint images list": ("endpoint_image", True),
    "endpoint images verify-present": ("image_presence", True),
}


@cache
def schemas() -> dict[str, dict[str, Any]]:
    """entity -> schema, from the ```json <entity> blocks of docs/json.md."""
    blocks = re.findall(r"```json (\w+)\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    return {name: json.loads(text) for name, text in blocks}


def validated(command: str, stdout: str) -> Any:
    """The JSON that `butido <command> ... --json` printed, once it validates against the schema
    docs/json.md gives for the command (an AssertionError lists what does not)."""
    data = json.loads(stdout)
    names, is_list = COMMANDS[command]
    items = data if is_list else [data]
    # "a|b": the output follows one of the schemas (a build for one image, a group, a dry run).
    tried = [[e for item in items for e in errors(item, schemas()[n])] for n in names.split("|")]
    problems = min(tried, key=len)
    assert problems == [], f"{command} --json: {problems}"
    return data


def errors(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """What is wrong with `value` (empty: it validates)."""
    found: list[str] = []
    if "$ref" in schema:
        return errors(value, schemas()[schema["$ref"]], where)
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is(value, name) for name in names):
            return [f"{where}: {value!r} is not of type {names}"]
    if isinstance(value, str) and "format" in schema:
        found += _format(value, schema["format"], where)
    if isinstance(value, dict):
        found += [f"{where}: missing {key!r}" for key in schema.get("required", ())
                  if key not in value]  # fmt: skip
        properties = schema.get("properties", {})
        for key, item in value.items():
            sub = properties.get(key, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                found += errors(item, sub, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += errors(item, schema["items"], f"{where}[{index}]")
    return found


def _is(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[name])


def _format(value: str, fmt: str, where: str) -> list[str]:
    try:
        if fmt == "uuid":
            uuid.UUID(value)
        elif fmt == "date-time" and datetime.fromisoformat(value).tzinfo is None:
            return [f"{where}: {value!r} has no zone"]
    except ValueError:
        return [f"{where}: {value!r} is not a {fmt}"]
    return []
