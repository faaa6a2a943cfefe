"""The repository commands on real git repositories: tree-of, what-depends, dependencies-of,
versions-of, env-of, find-pkg; pinning (--commit, --allow-dirty) and the golden trees of
repo-template.

`butido` runs the real command in a subprocess (about a second each); `inline` runs the same
`run()` as the console entry point in this process, for the many checks of output formats.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import click
import pytest

from butido_py.cli.commands.repo_cmd import COMMANDS
from butido_py.errors import ExitCode
from tests.e2e.conftest import Result, Runner
from tests.e2e.golden_files import assert_golden
from tests.helpers.gitrepo import ROOT_LAYER, commit_all, init_repo, leaf, write_files
from tests.helpers.json_schema import validated
from tests.plugins.services import service_missing

PROJECT = Path(__file__).resolve().parents[2]
CONFIG = """\
compatibility = 1
available_phases = ["build"]
[docker]
images = [
    { name = "debian:bookworm", short_name = "deb12" },
    { name = "alpine:3", short_name = "alpine" },
]
"""
# app needs lib (build) and util (runtime); lib and util share base (a diamond); two
# conditional dependencies; lib has two versions under a shared layer.
PACKAGES = {
    "config.toml": CONFIG,
    "pkg.toml": ROOT_LAYER,
    "app/pkg.toml": leaf(
        "app",
        "1.0",
        """
[environment]
APP_MODE = "release"
GREETING = "it's here"

[dependencies]
build = ["lib =2.1"]
runtime = [
    "util 0.5",
    { name = "tls 3", condition = { env_eq = { SSL = "a=b" } } },
    { name = "deb 1", condition = { in_image = "debian:bookworm" } },
]
""",
    ),
    "lib/pkg.toml": 'name = "lib"\n[dependencies]\nruntime = ["base 1"]\n',
    "lib/2.0/pkg.toml": 'version = "2.0"\n[sources.src]\nurl = "u"\nhash.hash = "aa"\n',
    "lib/2.1/pkg.toml": 'version = "2.1"\n[sources.src]\nurl = "u"\nhash.hash = "ab"\n',
    "util/pkg.toml": leaf("util", "0.5", '[dependencies]\nruntime = ["base 1"]\n'),
    "base/pkg.toml": leaf("base", "1"),
    "tls/pkg.toml": leaf("tls", "3"),
    "deb/pkg.toml": leaf("deb", "1"),
}
APP_TREE = """\
app 1.0
├─ *lib 2.1
│  └─ base 1
└─ util 0.5
   └─ base 1
"""


@pytest.fixture
def pkgs(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "pkgs", PACKAGES)


def test_tree_of_prints_the_tree_with_build_dependencies_marked(butido: Runner, pkgs: Path) -> None:
    result = butido("tree-of", "app", cwd=pkgs)
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout == APP_TREE


def test_conditions_follow_image_and_env(inline: Runner, pkgs: Path) -> None:
    result = inline("tree-of", "app", "-I", "deb12", "-E", "SSL=a=b", cwd=pkgs)
    assert result.code == 0, result.stderr
    assert result.stdout == (
        "app 1.0\n├─ *lib 2.1\n│  └─ base 1\n├─ util 0.5\n│  └─ base 1\n├─ tls 3\n└─ deb 1\n"
    )
    assert "tls 3" not in inline("tree-of", "app", "-E", "SSL=a", cwd=pkgs).stdout
    assert "deb 1" not in inline("tree-of", "app", "-I", "alpine", cwd=pkgs).stdout


def test_unknown_image_lists_the_known_ones(inline: Runner, pkgs: Path) -> None:
    result = inline("tree-of", "app", "-I", "nope", cwd=pkgs)
    assert result.code == ExitCode.USAGE
    assert "unknown image 'nope'; known images: debian:bookworm (deb12), alpine:3" in result.stderr


def test_bad_env_argument_is_a_usage_error(inline: Runner, pkgs: Path) -> None:
    result = inline("tree-of", "app", "-E", "1X=y", cwd=pkgs)
    assert result.code == ExitCode.USAGE
    assert "expected KEY=VALUE" in result.stderr


def test_serial_buildorder_puts_dependencies_first(inline: Runner, pkgs: Path) -> None:
    result = inline("tree-of", "app", "--serial-buildorder", cwd=pkgs)
    assert result.code == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[-2:] == ["", ""]
    order = lines[:-2]
    assert sorted(order) == ["*lib 2.1", "app 1.0", "base 1", "util 0.5"]
    assert order[0] == "base 1"
    assert order[-1] == "app 1.0"


def test_dot_output_is_accepted_by_graphviz(butido: Runner, pkgs: Path) -> None:
    result = butido("tree-of", "app", "--dot", cwd=pkgs)
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("digraph {\n")
    assert '0 -> 1 [ style = "dotted" ]' in result.stdout
    dot = shutil.which("dot")
    if dot is None:
        service_missing("Graphviz `dot`", "apt-get install graphviz")
        return
    done = subprocess.run(
        [dot, "-Tcanon"], input=result.stdout, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert 'label="lib 2.1"' in done.stdout


def test_json_has_nodes_edges_and_build_order(inline: Runner, pkgs: Path) -> None:
    result = inline("tree-of", "app", "--json", "-E", "SSL=a=b", cwd=pkgs)
    assert result.code == 0, result.stderr
    [dag] = validated("tree-of", result.stdout)
    assert dag["root"] == {"name": "app", "version": "1.0"}
    assert dag["env"] == {"SSL": "a=b"}
    assert {"from": {"name": "app", "version": "1.0"}, "to": {"name": "lib", "version": "2.1"},
            "kind": "build"} in dag["edges"]  # fmt: skip
    assert dag["build_order"][-1]["name"] == "app"
    assert len(dag["nodes"]) == 5


def test_every_matching_version_gets_a_tree(inline: Runner, pkgs: Path) -> None:
    result = inline("tree-of", "lib", "2", cwd=pkgs)
    assert result.stdout == "lib 2.0\n└─ base 1\n\nlib 2.1\n└─ base 1\n"
    assert inline("tree-of", "lib", "=2.0", cwd=pkgs).stdout == "lib 2.0\n└─ base 1\n"


def test_unknown_package_names_the_versions(inline: Runner, pkgs: Path) -> None:
    result = inline("tree-of", "lib", "3", cwd=pkgs)
    assert result.code == ExitCode.REPOSITORY
    assert "error: package lib 3 not found" in result.stderr
    assert "hint: versions of lib: 2.0, 2.1" in result.stderr


def test_running_in_a_sub_directory_works(butido: Runner, pkgs: Path) -> None:
    result = butido("tree-of", "app", cwd=pkgs / "lib" / "2.0")
    assert (result.code, result.stdout) == (0, APP_TREE)


def test_uncommitted_edit_is_read_with_a_note_and_old_commits_are_readable(
    butido: Runner, pkgs: Path
) -> None:
    util_with_extra = leaf("util", "0.5", '[dependencies]\nruntime = ["base 1", "extra 1"]\n')
    write_files(pkgs, {"extra/pkg.toml": leaf("extra", "1"), "util/pkg.toml": util_with_extra})
    commit_all(pkgs, "util needs extra")
    assert butido("tree-of", "app", cwd=pkgs).stdout == APP_TREE.replace(
        "   └─ base 1\n", "   ├─ base 1\n   └─ extra 1\n"
    )

    util_with_tls = leaf("util", "0.5", '[dependencies]\nruntime = ["tls 3"]\n')
    (pkgs / "util/pkg.toml").write_text(util_with_tls)  # not committed
    head = subprocess.run(
        ["git", "rev-parse", "--short=7", "HEAD"],
        cwd=pkgs,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tls_tree = APP_TREE.replace("   └─ base 1\n", "   └─ tls 3\n")
    for command in (["tree-of", "app"], ["find-pkg", "util"], ["versions-of", "util"]):
        read = butido(*command, cwd=pkgs)
        assert read.code == 0, read.stderr
        assert read.stderr == (
            f"note: reading the work tree: 1 file(s) differ from HEAD ({head}); "
            "build uses the commit\n"
        )
    assert butido("tree-of", "app", cwd=pkgs).stdout == tls_tree
    dirty = butido("tree-of", "app", "--allow-dirty", cwd=pkgs)
    assert (dirty.code, dirty.stdout) == (0, tls_tree)
    assert dirty.stderr.endswith(f"differ from HEAD ({head}) (--allow-dirty)\n")
    # Another commit is read from its objects: the edited work tree does not matter.
    older = butido("tree-of", "app", "--commit", "HEAD~1", cwd=pkgs)
    assert (older.code, older.stdout, older.stderr) == (0, APP_TREE, "")


def test_missing_dependency_and_cycle_are_one_line_errors(butido: Runner, pkgs: Path) -> None:
    write_files(pkgs, {"base/pkg.toml": leaf("base", "1", 'dependencies.runtime = ["app 1.0"]')})
    commit_all(pkgs)
    cycle = butido("tree-of", "app", cwd=pkgs)
    assert cycle.code == ExitCode.REPOSITORY
    assert cycle.stderr.splitlines()[0] == (
        "error: dependency cycle: app 1.0 -> lib 2.1 -> base 1 -> app 1.0"
    )
    write_files(pkgs, {"base/pkg.toml": leaf("base", "1", 'dependencies.runtime = ["gone 9"]')})
    commit_all(pkgs)
    missing = butido("tree-of", "util", cwd=pkgs)
    assert missing.stderr.splitlines() == [
        "error: base 1 (base/pkg.toml) depends on gone 9, which is not in the repository",
        "hint: there is no package named gone in the repository",
    ]


def test_what_depends(inline: Runner, pkgs: Path) -> None:
    result = inline("what-depends", "base", "--csv", "--header", cwd=pkgs)
    assert result.stdout.splitlines() == [
        "Name,Version,Dependency,Type",
        "lib,2.0,base 1,runtime",
        "lib,2.1,base 1,runtime",
        "util,0.5,base 1,runtime",
    ]
    build_only = inline("what-depends", "lib", "-t", "build", "--json", cwd=pkgs)
    assert validated("what-depends", build_only.stdout) == [
        {"name": "app", "version": "1.0", "dependency": "lib =2.1", "type": "build"}
    ]
    assert inline("what-depends", "lib", "-t", "runtime", cwd=pkgs) == Result(0, "", "")
    typo = inline("what-depends", "bsae", cwd=pkgs)
    assert typo.code == ExitCode.REPOSITORY
    assert "no package named 'bsae'" in typo.stderr


def test_dependencies_of_and_its_alias(inline: Runner, pkgs: Path) -> None:
    result = inline("dependencies-of", "app", "--json", cwd=pkgs)
    rows = validated("dependencies-of", result.stdout)
    assert [(r["dependency"], r["type"], r["condition"]) for r in rows] == [
        ("lib 2.1", "build", None),
        ("util 0.5", "runtime", None),
        ("tls 3", "runtime", "env_eq:SSL=a=b"),
        ("deb 1", "runtime", "in_image=debian:bookworm"),
    ]
    alias = inline("depsof", "app", "-t", "build", "--csv", "--no-header", cwd=pkgs)
    assert alias.stdout == "app,1.0,lib 2.1,build,-\n"


def test_versions_of_and_its_alias(inline: Runner, pkgs: Path) -> None:
    assert inline("versions-of", "lib", cwd=pkgs).stdout == "2.0\n2.1\n"
    result = inline("versions", "lib", "--json", cwd=pkgs)
    assert validated("versions-of", result.stdout) == [
        {"version": "2.0", "pkg_toml": "lib/2.0/pkg.toml"},
        {"version": "2.1", "pkg_toml": "lib/2.1/pkg.toml"},
    ]


def test_env_of(inline: Runner, pkgs: Path) -> None:
    assert inline("env-of", "app", "1.0", cwd=pkgs).stdout == (
        "APP_MODE = 'release'\nGREETING = 'it's here'\n"
    )
    assert inline("env", "base", "1", cwd=pkgs).stdout == "No environment\n"
    assert validated("env-of", inline("env", "app", "=1.0", "--json", cwd=pkgs).stdout) == {
        "APP_MODE": "release",
        "GREETING": "it's here",
    }
    assert inline("env", "app", "1", cwd=pkgs).code == ExitCode.REPOSITORY


def test_find_pkg_terse_and_constraint(inline: Runner, pkgs: Path) -> None:
    assert inline("find-pkg", "i", "-t", cwd=pkgs).stdout == "lib 2.0\nlib 2.1\nutil 0.5\n"
    assert inline("find-pkg", "^lib$", "=2.1", "-t", cwd=pkgs).stdout == "lib 2.1\n"
    none = inline("find-pkg", "zzz", cwd=pkgs)
    assert none.code == ExitCode.REPOSITORY
    bad = inline("find-pkg", "(", cwd=pkgs)
    assert bad.code == ExitCode.USAGE
    assert "invalid regular expression" in bad.stderr


def test_find_pkg_csv(inline: Runner, pkgs: Path) -> None:
    assert inline("find-pkg", "^lib", "--csv", "--header", cwd=pkgs).stdout.splitlines() == [
        "Name,Version,pkg.toml",
        "lib,2.0,lib/2.0/pkg.toml",
        "lib,2.1,lib/2.1/pkg.toml",
    ]


def test_find_pkg_sections_and_script(inline: Runner, pkgs: Path) -> None:
    result = inline("find-pkg", "^app$", "-A", "--no-highlighting", cwd=pkgs)
    assert result.code == 0, result.stderr
    out = result.stdout
    assert out.startswith("0 - app : 1.0")
    for text in ("lib =2.1 (build)", "APP_MODE=release", "Phases:", "   1 | #!/bin/bash"):
        assert text in out
    # butido's newer spelling is an alias.
    assert inline("find-pkg", "^app$", "-A", "--no-highlight", cwd=pkgs) == result
    coloured = inline("find-pkg", "^app$", "-s", "--highlighting", cwd=pkgs)
    assert coloured.code == 0, coloured.stderr
    assert inline("find-pkg", "^app$", "-s", "--highlight", cwd=pkgs) == coloured
    only_deps = inline("find-pkg", "^app$", "-D", "--dependency-type", "build", cwd=pkgs)
    assert "lib =2.1 (build)" in only_deps.stdout
    assert "(runtime)" not in only_deps.stdout


def test_find_pkg_json(inline: Runner, pkgs: Path) -> None:
    result = inline("find-pkg", "^util$", "--json", "-s", cwd=pkgs)
    [package] = validated("find-pkg", result.stdout)
    assert package["name"] == "util"
    assert package["pkg_toml"] == "util/pkg.toml"
    assert package["dependencies"] == {"build": [], "runtime": ["base 1"]}
    assert package["script"].startswith("#!/bin/bash\n")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: str(command.name))
def test_every_command_and_option_has_help(
    inline: Runner, tmp_path: Path, command: click.Command
) -> None:
    assert command.help
    undocumented = [p.name for p in command.params if isinstance(p, click.Option) and not p.help]
    assert undocumented == []
    result = inline(str(command.name), "--help", cwd=tmp_path)
    assert result.code == 0
    assert "--commit REV" in result.stdout
    assert "--allow-dirty" in result.stdout


# Golden outputs of tree-of on repo-template (BUTIDO_UPDATE_GOLDEN=1 rewrites them).
GOLDEN_CASES = {
    "tree-of-desktop.txt": ("tree-of", "desktop"),
    "tree-of-desktop-debian-docs.txt": (
        "tree-of", "desktop", "-I", "debian", "-E", "WITH_DOCS=1"),
    "tree-of-desktop.dot": ("tree-of", "desktop", "--dot"),
    "tree-of-desktop-buildorder.txt": ("tree-of", "desktop", "--serial-buildorder"),
}  # fmt: skip


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = PROJECT / "repo-template"
    if not (source / "pkg.toml").is_file():
        pytest.fail("repo-template/ is missing")
    files = {
        str(path.relative_to(source)): path.read_bytes()
        for path in source.rglob("*")
        if path.is_file()
    }
    return init_repo(tmp_path_factory.mktemp("template") / "repo", files)


@pytest.mark.parametrize("golden", sorted(GOLDEN_CASES))
def test_tree_of_golden_on_repo_template(butido: Runner, template_repo: Path, golden: str) -> None:
    result = butido(*GOLDEN_CASES[golden], cwd=template_repo)
    assert (result.code, result.stderr) == (0, "")
    assert_golden(golden, result.stdout)


# butido's default `package_print_format` (src/config/util.rs) as handlebars-rust renders it,
# worked out by hand from its template compiler (template.rs): a `~` trims the text before the
# tag, and a block tag alone on its line (judged on the source, before trimming) also drops the
# line break after it — so the separator follows the version directly. Every package ends with
# a line break of its own (butido's `writeln!`).
BUTIDO_PRINTS = {
    ("dependencies-of", "app"): (
        "0 - app : 1.0==================================Dependencies:\n"
        "lib =2.1 (build)\nutil 0.5 (runtime)\n[object] (runtime)\n[object] (runtime)\n\n"
    ),
    ("what-depends", "base"): "".join(
        f"{i} - {name} : {version}==================================Dependencies:\n"
        "base 1 (runtime)\n\n"
        for i, (name, version) in enumerate([("lib", "2.0"), ("lib", "2.1"), ("util", "0.5")], 1)
    ),
    ("what-depends", "lib", "-t", "build"): (
        "1 - app : 1.0==================================Dependencies:\nlib =2.1 (build)\n\n"
    ),
    ("find-pkg", "^lib$", "=2.0", "-S", "-p", "-E"): (
        "0 - lib : 2.0==================================Sources:\n"
        "src = u - aa (sha256)\nPatches:\n    Environment:\n    \n"
    ),
    ("find-pkg", "^util$"): "0 - util : 0.5\n",
}


@pytest.mark.parametrize("args", sorted(BUTIDO_PRINTS), ids=" ".join)
def test_packages_print_as_butido_prints_them(
    inline: Runner, pkgs: Path, args: tuple[str, ...]
) -> None:
    result = inline(*args, cwd=pkgs)
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout == BUTIDO_PRINTS[args]


def test_package_print_format_is_honoured_by_every_package_listing(
    inline: Runner, pkgs: Path
) -> None:
    template = "{{#each p.dependencies.runtime as |d|}}{{d}};{{/each}}"
    text = f"package_print_format = {template!r}\n{CONFIG}"
    (pkgs / "config.toml").write_text(text)
    assert inline("find-pkg", "^util$", cwd=pkgs).stdout == "base 1;\n"
    assert inline("what-depends", "base", cwd=pkgs).stdout == "base 1;\n" * 3
    assert inline("dependencies-of", "util", cwd=pkgs).stdout == "base 1;\n"


def test_csv_has_no_header_unless_asked_as_butido(inline: Runner, pkgs: Path) -> None:
    plain = inline("what-depends", "lib", "-t", "build", "--csv", cwd=pkgs)
    assert plain.stdout == "app,1.0,lib =2.1,build\n"
    headed = inline("find-pkg", "^util$", "--csv", "--header", cwd=pkgs)
    assert headed.stdout == "Name,Version,pkg.toml\nutil,0.5,util/pkg.toml\n"


def test_source_listings_piped_print_butido_layouts(inline: Runner, pkgs: Path) -> None:
    assert inline("source", "url", "lib", cwd=pkgs).stdout == (
        "lib 2.0 -> src = u\nlib 2.1 -> src = u\n"
    )
    of = inline("source", "of", "lib", "=2.0", cwd=pkgs).stdout.split("\n")
    assert of[0] == "lib 2.0"
    assert of[1].startswith("\t/")
    assert of[1].endswith("/lib-2.0/src.source")
    missing = inline("source", "list-missing", cwd=pkgs).stdout.splitlines()
    assert missing[0].startswith("app 1.0 -> /")


def test_a_phase_outside_available_phases_is_a_warning_of_every_command(
    butido: Runner, pkgs: Path
) -> None:
    write_files(pkgs, {"tls/pkg.toml": leaf("tls", "3", "[phases.deploy]\nscript = 'echo'\n")})
    commit_all(pkgs, "tls deploys")
    expected = (
        "warning: package tls 3 (tls/pkg.toml): phase 'deploy' is not in available_phases "
        "and never runs\n"
    )
    for command in (["tree-of", "app"], ["find-pkg", "tls"], ["versions-of", "base"]):
        done = butido(*command, cwd=pkgs)
        assert (done.code, done.stderr) == (0, expected), command
    (pkgs / "config.toml").write_text(CONFIG.replace('["build"]', '["build", "deploy"]'))
    assert butido("tree-of", "app", cwd=pkgs).stderr == ""
