"""Exit codes of a build, rebuild or rerun from its result and the signal that canceled it."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import pytest

from butido_py.cli.build_report import Interruption, echo_report, exit_code
from butido_py.orchestrator.model import Artifact, BuildResult, JobSummary
from butido_py.states import JobState, SubmitState


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


def test_the_report_counts_packages_and_names_the_staging_directory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    artifact = Artifact(None, "a.pkg", Path("/staging/s/a.pkg"), "0" * 64)
    job = JobSummary(uuid.uuid4(), "a", "1", JobState.SUCCEEDED, artifacts=(artifact,))
    done = BuildResult(uuid.uuid4(), "succeeded", Path("/staging/s"), (job,), 1.0)
    echo_report(done)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Packages: 1 created, 0 reused, 0 failed, in /staging/s (-v lists them)"
    assert lines[1] == f"Submit {done.submit_uuid} succeeded: 1 job (1 succeeded) in 1.0 s"
    assert "/staging/s/a.pkg" not in "\n".join(lines)  # paths only with -v
