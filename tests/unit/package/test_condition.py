from __future__ import annotations

import pytest

from butido_py.package.condition import condition_applies
from butido_py.package.model import Condition

ENV = {"TLS": "1", "MODE": "fast"}


@pytest.mark.parametrize(
    ("condition", "image", "expected"),
    [
        (None, None, True),
        (Condition(), None, True),
        (Condition(has_env=("TLS",)), None, True),
        (Condition(has_env=("TLS", "NOPE")), None, False),
        (Condition(env_eq=(("MODE", "fast"),)), None, True),
        (Condition(env_eq=(("MODE", "slow"),)), None, False),
        (Condition(env_eq=(("NOPE", ""),)), None, False),
        (Condition(in_image=("debian:bookworm",)), "debian:bookworm", True),
        (Condition(in_image=("debian:bookworm", "alpine")), "alpine", True),
        (Condition(in_image=("debian:bookworm",)), "alpine", False),
        (Condition(in_image=("debian:bookworm",)), None, False),
        (Condition(has_env=("TLS",), in_image=("alpine",)), "alpine", True),
        (Condition(has_env=("TLS",), in_image=("alpine",)), "debian", False),
    ],
)
def test_condition_applies(condition: Condition | None, image: str | None, expected: bool) -> None:
    assert condition_applies(condition, ENV, image) is expected
