"""One channel for user warnings: `warning: <message>` on stderr, from `warn` and from logging."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from butido_py.cli.warnings import echo_warning, install


@pytest.fixture
def installed() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("installed")
def test_a_logged_warning_looks_like_a_warn_call(capsys: pytest.CaptureFixture[str]) -> None:
    install(debug=False)
    echo_warning("from the application")
    logging.getLogger("butido_py.orchestrator.run").warning("could not remove %s", "c1")
    logging.getLogger("butido_py.process").info("not shown without --debug")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "warning: from the application",
        "warning: could not remove c1",
    ]


@pytest.mark.usefixtures("installed")
def test_debug_names_the_logger_and_shows_debug_records(
    capsys: pytest.CaptureFixture[str],
) -> None:
    install(debug=True)
    install(debug=True)  # a second command in the same process: still one line per record
    logging.getLogger("butido_py.process").debug("ran git")
    logging.getLogger("butido_py.process").warning("slow")
    logging.getLogger("butido_py.db").error("broken")
    assert capsys.readouterr().err.splitlines() == [
        "DEBUG butido_py.process: ran git",
        "warning: butido_py.process: slow",
        "error: butido_py.db: broken",
    ]
