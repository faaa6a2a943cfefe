"""Exit codes of a build, rebuild or rerun from its result and the signal that canceled it."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import pytest

from butido_py.cli.build_report import Interruption, exit_code
from butido_py.orchestrator.model import BuildResult
from butido_py.states import SubmitState


def result(state: SubmitState) -> BuildResult:
    return BuildResult(uuid.uuid4(), str(state), Path("/staging"), (), 1.0)


@pytest.mark.parametrize(
    ("state", "signum", "code"),
    [
        (SubmitState.SUCCEEDED, None, 0),
        (SubmitState.FAILED, None, 1),
        (SubmitState.CANCELED, signal.SIGINT, 130),
        (SubmitState.CANCELED, signal.SIGTERM, 143),
        (SubmitState.CANCELED, signal.SIGHUP, 129),
        (SubmitState.CANCELED, None, 130),
        (SubmitState.SUCCEEDED, signal.SIGTERM, 0),  # the signal came too late to cancel
    ],
)
def test_exit_code(state: SubmitState, signum: int | None, code: int) -> None:
    assert exit_code(result(state), Interruption(signum=signum)) == code
