"""Merging the `pkg.toml` layers of one package (butido-reference.md §1.2).

Layers are merged from the repository root down to the leaf: tables are deep-merged key by key,
arrays and scalars are replaced wholesale, keys are case-sensitive. Because a non-table value
always comes whole from one layer, the layer that defined it (needed to resolve relative patch
and phase paths) is the last layer in which its key path exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Table = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Layer:
    #: Repository-relative path of the pkg.toml file.
    path: str
    data: Table


def merge_layers(layers: Sequence[Layer]) -> dict[str, Any]:
    """The merged table; the inputs are not modified and may be shared between packages."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = merge_tables(merged, layer.data)
    return merged


def merge_tables(base: Table, overlay: Table) -> dict[str, Any]:
    result = dict(base)
    for key, value in overlay.items():
        current = result.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            result[key] = merge_tables(current, value)
        else:
            result[key] = value
    return result


def defining_layer(layers: Sequence[Layer], key_path: Sequence[str]) -> Layer:
    """The layer that defined the value at `key_path` of the merged table (which must exist)."""
    for layer in reversed(layers):
        if _has_path(layer.data, key_path):
            return layer
    raise KeyError(".".join(key_path))


def _has_path(table: Table, key_path: Sequence[str]) -> bool:
    node: object = table
    for key in key_path:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True
