"""Which jobs a rerun may reuse once the new plan is known (a pure decision)."""

from __future__ import annotations

import uuid

from butido_py.app.rerun import consistent_reuse

A, B, C, D, E = (uuid.uuid4() for _ in range(5))
OLD = {job: uuid.uuid4() for job in (A, B, C, D, E)}


def test_a_job_that_needs_one_that_runs_runs_too_even_indirectly() -> None:
    # A <- B <- C, D independent; E needs A and D. A runs (not reusable).
    plan = [(A, []), (D, []), (B, [A]), (C, [B]), (E, [A, D])]
    reuse = {job: OLD[job] for job in (B, C, D, E)}
    assert consistent_reuse(plan, reuse) == {D: OLD[D]}


def test_everything_reusable_stays_reused() -> None:
    plan = [(A, []), (B, [A]), (C, [A, B])]
    reuse = {job: OLD[job] for job in (A, B, C)}
    assert consistent_reuse(plan, reuse) == reuse


def test_a_job_missing_from_the_original_runs_and_so_do_its_dependents() -> None:
    # butido (Rust) kept no record of B (it reused it): B is not in reuse_from, so C runs.
    plan = [(A, []), (B, [A]), (C, [B]), (D, [A])]
    reuse = {job: OLD[job] for job in (A, C, D)}
    assert consistent_reuse(plan, reuse) == {A: OLD[A], D: OLD[D]}
