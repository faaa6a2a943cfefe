"""Layering of configuration sources (pure: takes parsed data, returns merged data).

Later layers win; tables are deep-merged key by key, arrays and scalars are replaced. The origin of
every leaf value is kept so that errors can name the file or variable that set it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field

from butido_py.config.settings import TOP_LEVEL, Setting, ValueKind

KeyPath = tuple[str, ...]

ENV_PREFIX = "BUTIDO_"


@dataclass(frozen=True, slots=True)
class Layer:
    """One configuration source: a file's parsed TOML or one environment variable."""

    source: str
    data: Mapping[str, object]


@dataclass(slots=True)
class MergedConfig:
    data: dict[str, object] = field(default_factory=dict)
    origins: dict[KeyPath, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def origin(self, path: KeyPath) -> str:
        """The source of `path`, or of its closest ancestor that has one."""
        for end in range(len(path), 0, -1):
            found = self.origins.get(path[:end])
            if found is not None:
                return found
        # A missing key of a table set by exactly one source is that source's fault.
        if len(self.sources) == 1:
            return self.sources[0]
        return "configuration"


def merge_layers(layers: list[Layer]) -> MergedConfig:
    merged = MergedConfig()
    for layer in layers:
        merged.sources.append(layer.source)
        _merge_into(merged.data, layer.data, layer.source, merged.origins, ())
    return merged


def _merge_into(
    target: dict[str, object],
    over: Mapping[str, object],
    source: str,
    origins: dict[KeyPath, str],
    prefix: KeyPath,
) -> None:
    for key, value in over.items():
        path = (*prefix, key)
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            origins.setdefault(path, source)
            _merge_into(current, value, source, origins, path)
            continue
        if isinstance(value, Mapping):
            target[key] = {}
            _drop_origins_below(origins, path)
            origins[path] = source
            _merge_into(_as_dict(target[key]), value, source, origins, path)
            continue
        _drop_origins_below(origins, path)
        target[key] = value
        origins[path] = source


def _as_dict(value: object) -> dict[str, object]:
    assert isinstance(value, dict)  # noqa: S101 - created just above
    return value


def _drop_origins_below(origins: dict[KeyPath, str], path: KeyPath) -> None:
    for known in [p for p in origins if p[: len(path)] == path]:
        del origins[known]


def environment_layers(environ: Mapping[str, str]) -> list[Layer]:
    """One layer per `BUTIDO_<KEY>` variable whose KEY is a known top-level setting.

    Other `BUTIDO_*` variables are ignored: they may belong to wrappers, CI or our own tests.
    """
    layers = []
    by_key = {setting.key: setting for setting in TOP_LEVEL}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX):
            continue
        setting = by_key.get(name.removeprefix(ENV_PREFIX).lower())
        if setting is None:
            continue
        value = parse_environment_value(setting, environ[name])
        layers.append(Layer(f"environment variable {name}", {setting.key: value}))
    return layers


def unknown_environment_names(environ: Mapping[str, str]) -> list[str]:
    """`BUTIDO_*` names that are not configuration keys (shown by `butido config show`)."""
    known = {setting.key for setting in TOP_LEVEL}
    return sorted(
        name
        for name in environ
        if name.startswith(ENV_PREFIX) and name.removeprefix(ENV_PREFIX).lower() not in known
    )


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_environment_value(setting: Setting, raw: str) -> object:  # noqa: PLR0911 - one return per kind
    """Convert an environment string to the setting's kind; leave it as text when that fails,
    so that validation reports the type error with the variable's name."""
    match setting.kind:
        case ValueKind.INTEGER:
            stripped = raw.strip()
            return int(stripped) if stripped.lstrip("-").isdigit() else raw
        case ValueKind.BOOLEAN:
            lowered = raw.strip().lower()
            if lowered in _TRUE:
                return True
            return False if lowered in _FALSE else raw
        case ValueKind.STRING_LIST:
            if raw.lstrip().startswith("["):
                return _parse_toml_value(raw)
            return [part.strip() for part in raw.split(",") if part.strip()]
        case ValueKind.TABLE | ValueKind.TABLE_LIST | ValueKind.TABLE_MAP:
            return _parse_toml_value(raw)
        case _:
            return raw


def _parse_toml_value(raw: str) -> object:
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw
