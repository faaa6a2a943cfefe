from __future__ import annotations

from dataclasses import replace

import pytest

from butido_py.errors import ScriptError
from butido_py.package.model import Phase
from butido_py.script import assemble_script, check_phases, unindent
from tests.unit.script.packages import PHASES, make_package


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("    a\n    b\n", "a\nb\n"),
        ("    a\n      b\n", "a\n  b\n"),
        ("a\n    b", "a\n    b"),
        ("\tx\n\t\ty\n", "x\n\ty\n"),
        ("  a\n\n  b\n", "a\n\nb\n"),
        # whitespace-only lines: ignored for the minimum, cut to what is left
        ("    a\n  \n      \n    b\n", "a\n\n  \nb\n"),
        ("", ""),
        ("\n", "\n"),
        ("   ", "   "),  # no line sets an indentation: nothing is removed
        ("    only", "only"),
        ("\n    a\n", "\na\n"),
    ],
)
def test_unindent_matches_the_unindent_crate(text: str, expected: str) -> None:
    assert unindent(text) == expected


def test_assembly_is_byte_exact() -> None:
    package = make_package(
        phases={"build": '\n    make\n    {{state "OK"}}\n', "sourcecheck": "  test -e x"}
    )
    script = assemble_script(package, phases=PHASES, shebang="#!/bin/bash")
    assert script == (
        "#!/bin/bash\n"
        "### phase sourcecheck\n"
        "test -e x\n"
        "### / sourcecheck phase\n"
        "\n"
        "# No script for phase: patchcheck\n"
        "### phase build\n"
        "\n"
        "make\n"
        '{{state "OK"}}\n'
        "\n"
        "### / build phase\n"
        "\n"
    )


def test_phases_follow_the_configured_order_and_unknown_ones_are_left_out() -> None:
    package = make_package(phases={"build": "b", "extra": "x", "sourcecheck": "s"})
    script = assemble_script(package, phases=("build", "sourcecheck"), shebang="#!/bin/sh")
    assert script == (
        "#!/bin/sh\n### phase build\nb\n### / build phase\n\n"
        "### phase sourcecheck\ns\n### / sourcecheck phase\n\n"
    )


def test_a_path_phase_is_assembled_like_an_inline_script() -> None:
    package = replace(
        make_package(), phases=(Phase("build", "  make\n", path="libs/zlib/build.sh"),)
    )
    script = assemble_script(package, phases=("build",), shebang="#!/bin/bash")
    assert script == "#!/bin/bash\n### phase build\nmake\n\n### / build phase\n\n"


def test_check_phases_accepts_exactly_the_configured_phases() -> None:
    check_phases(make_package(), PHASES)


def test_check_phases_rejects_an_unconfigured_phase() -> None:
    with pytest.raises(
        ScriptError, match=r"zlib 1.3.1 \(libs/zlib/pkg.toml\): phase 'build' is not configured"
    ):
        check_phases(make_package(), ("sourcecheck", "patchcheck"))


def test_check_phases_rejects_a_missing_phase() -> None:
    with pytest.raises(
        ScriptError,
        match=r"zlib 1.3.1 \(libs/zlib/pkg.toml\): configured phase 'lint' is not defined",
    ):
        check_phases(make_package(), (*PHASES, "lint"))
