"""The fair order endpoint slots are granted in (db/leases.grant_order): priority, then round-robin
between submits, then request time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from butido_py.db.leases import Holding, WaitingRequest, grant_order

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def request(request_id: int, submit: int, *, priority: int = 0, at: int = 0) -> WaitingRequest:
    return WaitingRequest(request_id, submit, priority, T0 + timedelta(seconds=at))


def ids(chosen: list[WaitingRequest]) -> list[int]:
    return [r.id for r in chosen]


def test_a_small_submit_goes_before_a_big_one_holding_every_slot() -> None:
    big = [request(i, submit=1, at=i) for i in range(1, 5)]
    small = request(9, submit=2, at=100)
    holdings = {1: Holding(2, T0)}
    assert ids(grant_order([*big, small], holdings, 1)) == [9]


def test_round_robin_between_submits_without_leases() -> None:
    waiting = [request(1, 1, at=0), request(2, 1, at=1), request(3, 2, at=2), request(4, 2, at=3)]
    assert ids(grant_order(waiting, {}, 4)) == [1, 3, 2, 4]


def test_the_submit_granted_longest_ago_goes_first_among_equal_counts() -> None:
    waiting = [request(1, 1), request(2, 2)]
    holdings = {1: Holding(1, T0 + timedelta(seconds=5)), 2: Holding(1, T0)}
    assert ids(grant_order(waiting, holdings, 1)) == [2]


def test_priority_goes_first_whatever_a_submit_holds() -> None:
    waiting = [request(1, 1, at=0), request(2, 2, priority=5, at=9)]
    holdings = {2: Holding(10, T0)}
    assert ids(grant_order(waiting, holdings, 1)) == [2]


def test_request_time_orders_the_jobs_of_one_submit() -> None:
    waiting = [request(1, 1, at=3), request(2, 1, at=1), request(3, 1, at=2)]
    assert ids(grant_order(waiting, {}, 3)) == [2, 3, 1]


def test_no_free_slot_grants_nothing() -> None:
    assert grant_order([request(1, 1)], {}, 0) == []
