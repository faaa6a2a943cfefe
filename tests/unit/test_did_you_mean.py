"""`did you mean` for mistyped package, image and endpoint names."""

from __future__ import annotations

from butido_py.errors import did_you_mean


def test_a_close_name_is_suggested() -> None:
    assert did_you_mean("desktp", ["desktop", "gtk-lite", "libc"]) == "did you mean 'desktop'?"
    assert did_you_mean("tinyy", ["butido-tiny:latest", "tiny"]) == "did you mean 'tiny'?"


def test_nothing_close_is_no_suggestion() -> None:
    assert did_you_mean("nosuch", ["local"]) is None
    assert did_you_mean("x", []) is None
