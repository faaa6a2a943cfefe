from __future__ import annotations

import io
import re

import pytest

from butido_py.cli.script_display import format_log, format_script, pygments_style, use_color
from butido_py.config.settings import SCRIPT_THEMES
from butido_py.errors import ConfigError
from butido_py.logproto import parse_log

SCRIPT = '#!/bin/bash\necho "hi $x"\n\nexit 0\n'
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_plain_script_is_unchanged() -> None:
    assert format_script(SCRIPT, line_numbers=False, highlighting=False, theme=None) == SCRIPT


def test_line_numbers_without_highlighting_keep_line_breaks() -> None:
    assert format_script(SCRIPT, line_numbers=True, highlighting=False, theme=None) == (
        '   1 | #!/bin/bash\n   2 | echo "hi $x"\n   3 | \n   4 | exit 0\n'
    )


def test_highlighting_needs_no_configured_theme() -> None:
    text = format_script(SCRIPT, line_numbers=False, highlighting=True, theme=None)
    assert "\x1b[" in text
    assert ANSI.sub("", text) == SCRIPT


@pytest.mark.parametrize("theme", [*SCRIPT_THEMES, "monokai"])
def test_highlighting_with_line_numbers_keeps_the_text(theme: str) -> None:
    text = format_script(SCRIPT, line_numbers=True, highlighting=True, theme=theme)
    plain = format_script(SCRIPT, line_numbers=True, highlighting=False, theme=None)
    assert ANSI.sub("", text) == plain


def test_butido_theme_names_map_to_pygments_styles() -> None:
    assert pygments_style("Solarized (dark)") == "solarized-dark"
    assert pygments_style("base16-ocean.dark") == SCRIPT_THEMES["base16-ocean.dark"]
    assert pygments_style("vim") == "vim"


def test_unknown_theme_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="theme not known: 'neon'") as raised:
        pygments_style("neon")
    assert raised.value.hint is not None
    assert "InspiredGitHub" in raised.value.hint
    assert "monokai" in raised.value.hint


def test_colours_only_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Terminal())
    assert not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Terminal())


def test_format_log() -> None:
    records = parse_log(b"x\n#BUTIDO:STATE:OK\n")
    assert format_log(records, color=False) == "x\n#BUTIDO:STATE:OK"
    assert format_log(records, color=True) == "x\n\x1b[32m#BUTIDO:STATE:OK\x1b[0m"
