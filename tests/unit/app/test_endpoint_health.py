"""The decisions of `butido endpoint …` (app/endpoints.py) that need no engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from butido_py.app.endpoints import (
    EndpointHealth,
    EndpointState,
    EngineReport,
    ImagePresence,
    StatsResult,
    health_of,
    missing_images_error,
)
from butido_py.config.model import EndpointConfig, EndpointType
from butido_py.db.records import EndpointRecord
from butido_py.errors import EndpointError

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
EP1 = EndpointConfig("ep1", "unix:///run/docker.sock", EndpointType.SOCKET, 1)
EP2 = EndpointConfig("ep2", "tcp://127.0.0.1:9", EndpointType.HTTP, 1)


def record(*, disabled: bool = False, until: datetime | None = None) -> EndpointRecord:
    return EndpointRecord(1, "ep1", disabled, until, 3)


def test_an_endpoint_the_database_does_not_know_is_enabled() -> None:
    health = health_of(EP1, None, known=True, now=NOW)
    assert (health.state, health.disabled, health.failures) == (EndpointState.ENABLED, False, 0)


def test_an_unreadable_database_leaves_everything_unknown() -> None:
    assert health_of(EP1, record(disabled=True), known=False, now=NOW) == EndpointHealth(
        EP1, None, None, None, None
    )


def test_disabled_wins_over_quarantined_and_a_past_quarantine_is_over() -> None:
    later = NOW + timedelta(minutes=5)
    earlier = NOW - timedelta(minutes=5)
    assert health_of(EP1, record(disabled=True, until=later), known=True, now=NOW).state == (
        EndpointState.DISABLED
    )
    quarantined = health_of(EP1, record(until=later), known=True, now=NOW)
    assert (quarantined.state, quarantined.failures) == (EndpointState.QUARANTINED, 3)
    over = health_of(EP1, record(until=earlier), known=True, now=NOW)
    assert (over.state, over.quarantined_until) == (EndpointState.ENABLED, earlier)


def test_stats_fail_with_the_one_error_or_name_every_silent_endpoint() -> None:
    def report(endpoint: EndpointConfig, error: EndpointError | None) -> EngineReport:
        return EngineReport(health_of(endpoint, None, known=True, now=NOW), None, error)

    down = EndpointError("engine down", hint="start it")
    assert StatsResult((report(EP1, None),)).failure() is None
    assert StatsResult((report(EP1, None), report(EP2, down))).failure() is down
    both = StatsResult((report(EP1, down), report(EP2, down))).failure()
    assert both is not None
    assert both.message == "2 of 2 endpoints did not answer ('ep1', 'ep2'): engine down"
    assert both.hint == "start it"


def test_missing_images_are_named_with_their_endpoint() -> None:
    found = (ImagePresence("ep1", "tiny", True), ImagePresence("ep2", "tiny", False))
    assert missing_images_error(found[:1]) is None
    error = missing_images_error(found)
    assert error is not None
    assert error.message == "1 image(s) missing: tiny on ep2"
