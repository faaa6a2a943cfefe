"""Scheduling decisions and the slot manager."""

from __future__ import annotations

import threading
import time

import pytest

from butido_py.endpoint.scheduler import (
    EndpointLoad,
    NoEndpointError,
    Scheduler,
    SchedulerClosedError,
    choose_endpoint,
)


def test_least_utilised_endpoint_wins() -> None:
    loads = [EndpointLoad("a", 4, 2), EndpointLoad("b", 2, 0), EndpointLoad("c", 1, 0)]
    assert choose_endpoint(loads) == "b"


def test_utilisation_is_relative_to_maxjobs() -> None:
    loads = [EndpointLoad("small", 2, 1), EndpointLoad("big", 8, 2)]
    assert choose_endpoint(loads) == "big"


def test_ties_keep_the_configured_order() -> None:
    assert choose_endpoint([EndpointLoad("x", 2, 1), EndpointLoad("y", 4, 2)]) == "x"


def test_full_and_unavailable_endpoints_are_skipped() -> None:
    loads = [EndpointLoad("full", 1, 1), EndpointLoad("off", 4, 0, available=False)]
    assert choose_endpoint(loads) is None


def test_pinned_endpoints_restrict_the_choice() -> None:
    loads = [EndpointLoad("a", 4, 0), EndpointLoad("b", 4, 3)]
    assert choose_endpoint(loads, frozenset({"b"})) == "b"
    assert choose_endpoint(loads, frozenset({"nope"})) is None


def test_never_more_than_maxjobs_run_at_once() -> None:
    scheduler = Scheduler([("a", 2), ("b", 1)])
    lock = threading.Lock()
    running = {"a": 0, "b": 0}
    peak = {"a": 0, "b": 0}
    used: list[str] = []

    def job() -> None:
        with scheduler.slot() as name:
            with lock:
                running[name] += 1
                peak[name] = max(peak[name], running[name])
                used.append(name)
            time.sleep(0.01)
            with lock:
                running[name] -= 1

    threads = [threading.Thread(target=job) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(used) == 24
    assert peak == {"a": 2, "b": 1}
    assert {load.running for load in scheduler.loads()} == {0}


def test_waiting_job_gets_the_freed_slot() -> None:
    scheduler = Scheduler([("only", 1)])
    order: list[str] = []
    with scheduler.slot():
        waiter = threading.Thread(target=lambda: order.append(_take(scheduler)))
        waiter.start()
        time.sleep(0.05)
        assert order == []  # blocked while the slot is taken
        order.append("first done")
    waiter.join(timeout=5)
    assert order == ["first done", "only"]


def _take(scheduler: Scheduler) -> str:
    with scheduler.slot() as name:
        return name


def test_close_wakes_waiting_jobs() -> None:
    scheduler = Scheduler([("only", 1)])
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            _take(scheduler)
        except SchedulerClosedError as exc:
            errors.append(exc)

    with scheduler.slot():
        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(0.05)
        scheduler.close()
        waiter.join(timeout=5)
    assert len(errors) == 1
    with pytest.raises(SchedulerClosedError):
        _take(scheduler)


def test_enabling_an_endpoint_wakes_waiters() -> None:
    scheduler = Scheduler([("a", 1), ("b", 1)])
    scheduler.set_available("b", False)
    got: list[str] = []
    with scheduler.slot() as first:
        assert first == "a"
        waiter = threading.Thread(target=lambda: got.append(_take(scheduler)))
        waiter.start()
        time.sleep(0.05)
        assert got == []
        scheduler.set_available("b", True)
        waiter.join(timeout=5)
    assert got == ["b"]


def test_a_retry_avoids_the_endpoint_that_failed_while_another_is_available() -> None:
    loads = [EndpointLoad("a", 4, 0), EndpointLoad("b", 4, 3)]
    assert choose_endpoint(loads, avoid=frozenset({"a"})) == "b"
    # b is full: the retry waits for it rather than going back to a.
    full = [EndpointLoad("a", 4, 0), EndpointLoad("b", 4, 4)]
    assert choose_endpoint(full, avoid=frozenset({"a"})) is None
    # No other endpoint (b quarantined): back to a.
    off = [EndpointLoad("a", 4, 0), EndpointLoad("b", 4, 0, available=False)]
    assert choose_endpoint(off, avoid=frozenset({"a"})) == "a"
    assert choose_endpoint([EndpointLoad("a", 1, 0)], avoid=frozenset({"a"})) == "a"


def test_taking_out_the_last_endpoint_fails_waiting_jobs() -> None:
    scheduler = Scheduler([("a", 1), ("b", 1)])
    scheduler.set_available("b", False)
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            _take(scheduler)
        except NoEndpointError as exc:
            errors.append(exc)

    with scheduler.slot() as first:
        assert first == "a"
        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(0.05)
        assert errors == []
        scheduler.set_available("a", False)  # the running job keeps its slot
        waiter.join(timeout=5)
    assert len(errors) == 1
    with pytest.raises(NoEndpointError):
        _take(scheduler)
