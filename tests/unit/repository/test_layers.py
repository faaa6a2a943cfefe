from __future__ import annotations

import pytest

from butido_py.repository.layers import Layer, defining_layer, merge_layers

ROOT = Layer(
    "pkg.toml",
    {
        "patches": ["root.patch"],
        "sources": {"src": {"hash": {"type": "sha1"}}},
        "dependencies": {"build": [], "runtime": ["a 1"]},
        "environment": {"Path": "x"},
    },
)
MIDDLE = Layer("s/pkg.toml", {"sources": {"src": {"url": "u", "hash": {"hash": "ab"}}}})
LEAF = Layer(
    "s/1/pkg.toml",
    {"dependencies": {"runtime": ["b 2"]}, "environment": {"PATH": "y"}, "version": "1"},
)


def test_tables_are_deep_merged_key_by_key() -> None:
    merged = merge_layers([ROOT, MIDDLE, LEAF])
    assert merged["sources"] == {"src": {"url": "u", "hash": {"type": "sha1", "hash": "ab"}}}


def test_arrays_are_replaced_not_concatenated() -> None:
    merged = merge_layers([ROOT, MIDDLE, LEAF])
    assert merged["dependencies"] == {"build": [], "runtime": ["b 2"]}


def test_keys_are_case_sensitive() -> None:
    assert merge_layers([ROOT, LEAF])["environment"] == {"Path": "x", "PATH": "y"}


def test_a_scalar_replaces_a_table_and_the_other_way_round() -> None:
    assert merge_layers([Layer("a", {"k": {"x": 1}}), Layer("b", {"k": 2})]) == {"k": 2}
    assert merge_layers([Layer("a", {"k": 2}), Layer("b", {"k": {"x": 1}})]) == {"k": {"x": 1}}


def test_inputs_are_not_modified() -> None:
    merge_layers([ROOT, MIDDLE, LEAF])
    assert ROOT.data["sources"] == {"src": {"hash": {"type": "sha1"}}}
    assert "url" not in MIDDLE.data["sources"]["src"].get("hash", {})


def test_defining_layer_is_the_last_layer_that_has_the_key() -> None:
    layers = [ROOT, MIDDLE, LEAF]
    assert defining_layer(layers, ("patches",)).path == "pkg.toml"
    assert defining_layer(layers, ("dependencies", "runtime")).path == "s/1/pkg.toml"
    assert defining_layer(layers, ("sources", "src", "hash", "type")).path == "pkg.toml"
    assert defining_layer(layers, ("sources", "src", "url")).path == "s/pkg.toml"


def test_defining_layer_of_a_missing_key_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        defining_layer([ROOT], ("nothing",))
