"""The cancel event of `app.build`: passed on to the run, or refusing to start one."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any, cast

import pytest

from butido_py.app import build as app_build
from butido_py.app import preflight
from butido_py.app.build import CanceledBeforeStartError, run_prepared
from butido_py.app.services import Services
from butido_py.config.model import Config
from butido_py.errors import ExitCode
from butido_py.orchestrator.model import BuildListener, BuildResult, PreparedBuild


class FakeRun:
    """Runs until canceled (or `finish` is set), like a build with a long job."""

    def __init__(self) -> None:
        self.canceled = threading.Event()
        self.finish = threading.Event()

    def run(self) -> BuildResult:
        while not (self.canceled.is_set() or self.finish.is_set()):
            self.canceled.wait(0.01)
        state = "canceled" if self.canceled.is_set() else "succeeded"
        return BuildResult(uuid.uuid4(), state, Path("/staging"), (), 0.0)

    def cancel(self) -> None:
        self.canceled.set()


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> FakeRun:
    run = FakeRun()
    monkeypatch.setattr(app_build, "run_build", lambda *_, **__: run)
    monkeypatch.setattr(preflight, "check_build", lambda *_: None)  # no directories
    return run


def services() -> Services:
    def no_repository(*_: Any, **__: Any) -> Any:
        raise AssertionError("not needed")

    return Services(cast(Config, None), no_repository, lambda: cast(Any, None), lambda _: None)


PREPARED = cast(PreparedBuild, type("Prepared", (), {"submit_uuid": uuid.uuid4()})())
LISTENER = cast(BuildListener, None)


def test_setting_the_event_cancels_the_running_build(fake_run: FakeRun) -> None:
    cancel = threading.Event()
    threading.Timer(0.05, cancel.set).start()
    result = run_prepared(PREPARED, services(), LISTENER, cancel)
    assert result.state == "canceled"
    assert fake_run.canceled.is_set()


def test_a_build_that_ends_is_not_canceled_afterwards(fake_run: FakeRun) -> None:
    cancel = threading.Event()
    fake_run.finish.set()
    assert run_prepared(PREPARED, services(), LISTENER, cancel).state == "succeeded"
    cancel.set()
    assert not fake_run.canceled.wait(3 * app_build.CANCEL_POLL)


def test_an_event_set_while_checking_starts_nothing(fake_run: FakeRun) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CanceledBeforeStartError, match="nothing was recorded") as raised:
        run_prepared(PREPARED, services(), LISTENER, cancel)
    assert raised.value.exit_code is ExitCode.INTERRUPTED
    assert not fake_run.canceled.is_set()
