from __future__ import annotations

import pytest

from butido_py.errors import ScriptError
from butido_py.script import assemble_script, package_context, render_script, render_template
from tests.unit.script.packages import PHASES, make_package

SCRIPTS = {
    "sourcecheck": """
        {{phase "sourcecheck"}}
        [ -e /inputs/src.source ] || { {{state "ERR" "Missing input"}}; exit 1; }
        echo "{{this.sources.src.url}} {{this.sources.src.hash.type}}"
    """,
    "patchcheck": """
        {{#if this.patches[0]}}
        for p in{{#each this.patches}} /patches/{{this}}{{/each}}; do
            [ -e "$p" ] || exit 1
        done
        {{else}}
        echo "no patches"
        {{/if}}
    """,
    "build": """
        {{phase "build"}}
        echo {{joinwith " " this.name this.version}}
        {{progress 100}}
        {{state "OK"}}
    """,
}


def test_render_script_is_byte_exact() -> None:
    package = make_package(phases=SCRIPTS, patches=("libs/zlib/a.patch",))
    script = render_script(package, phases=PHASES, shebang="#!/bin/bash", strict=True)
    assert script == (
        "#!/bin/bash\n"
        "### phase sourcecheck\n"
        "\n"
        "echo '#BUTIDO:PHASE:sourcecheck'\n"
        "[ -e /inputs/src.source ] || { echo '#BUTIDO:STATE:ERR:Missing input'; exit 1; }\n"
        'echo "https://example.com/ sha256"\n'
        "\n"
        "### / sourcecheck phase\n"
        "\n"
        "### phase patchcheck\n"
        "\n"
        "for p in /patches/libs/zlib/a.patch; do\n"
        '    [ -e "$p" ] || exit 1\n'
        "done\n"
        "\n"
        "### / patchcheck phase\n"
        "\n"
        "### phase build\n"
        "\n"
        "echo '#BUTIDO:PHASE:build'\n"
        "echo zlib 1.3.1\n"
        "echo '#BUTIDO:PROGRESS:100'\n"
        "echo '#BUTIDO:STATE:OK'\n"
        "\n"
        "### / build phase\n"
        "\n"
    )


def test_without_patches_the_else_branch_renders() -> None:
    script = render_script(
        make_package(phases=SCRIPTS), phases=PHASES, shebang="#!/bin/bash", strict=True
    )
    assert '### phase patchcheck\n\necho "no patches"\n\n### / patchcheck phase\n' in script


@pytest.mark.parametrize("patches", [(), ("libs/zlib/a.patch", "libs/zlib/b.patch")])
def test_rendering_by_blocks_equals_rendering_the_whole_script(patches: tuple[str, ...]) -> None:
    package = make_package(phases=SCRIPTS, patches=patches)
    whole = render_template(
        assemble_script(package, phases=PHASES, shebang="#!/bin/bash"),
        package_context(package),
        strict=True,
    )
    assert render_script(package, phases=PHASES, shebang="#!/bin/bash", strict=True) == whole


def test_a_block_spanning_phases_is_rendered_as_one_template() -> None:
    package = make_package(phases={"sourcecheck": "{{#if name}}", "build": "{{/if}}yes"})
    script = render_script(package, phases=PHASES, shebang="#!/bin/bash", strict=True)
    assert "yes" in script
    assert "# No script for phase: patchcheck" in script


def test_strict_mode_error_names_package_version_and_variable() -> None:
    package = make_package(phases={"build": "echo {{this.meta.owner}}"})
    with pytest.raises(ScriptError) as raised:
        render_script(package, phases=PHASES, shebang="#!/bin/bash", strict=True)
    message = raised.value.message
    assert "package zlib 1.3.1" in message
    assert "`this.meta.owner`" in message
    assert raised.value.hint is not None
    assert "libs/zlib/pkg.toml" in raised.value.hint


def test_lenient_mode_renders_missing_variables_as_empty_text() -> None:
    package = make_package(phases={"build": "echo [{{this.meta.owner}}]"})
    script = render_script(package, phases=("build",), shebang="#!/bin/bash", strict=False)
    assert "echo []\n" in script


def test_nul_bytes_are_removed() -> None:
    package = make_package(phases={"build": "echo a\0b"})
    script = render_script(package, phases=("build",), shebang="#!/bin/bash", strict=True)
    assert "echo ab\n" in script
    assert "\0" not in script


def test_syntax_error_names_the_package() -> None:
    package = make_package(phases={"build": "{{#each patches}}\n"})
    with pytest.raises(ScriptError, match=r"package zlib 1.3.1 failed: .*not closed"):
        render_script(package, phases=("build",), shebang="#!/bin/bash", strict=True)
