"""The one difference in how jobs run that a butido user trips over: job containers have no
network unless the endpoint sets `network_mode` (butido used Docker's default, a bridge).

Said once where it matters: `config check`, the build header and the report of a failed build.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the configuration's modules are slow to import (start-up time)
    from butido_py.config.model import EndpointConfig

#: How to get butido's behaviour back.
HINT = 'set network_mode = "bridge" on the endpoint for network access as in butido'


def unset_network_mode(endpoints: Iterable[EndpointConfig]) -> list[str]:
    """The endpoints whose job containers run without a network by our default."""
    return [e.name for e in endpoints if not e.network_mode_set and e.network_mode == "none"]


def network_summary(endpoints: Iterable[EndpointConfig]) -> str | None:
    """`none on a, b (network_mode not set: …)`, or None when every endpoint sets it."""
    names = unset_network_mode(endpoints)
    if not names:
        return None
    return (
        f"none on {', '.join(names)} (network_mode not set; butido used Docker's default "
        f"network): {HINT}"
    )
