"""Repository queries: tree-of, what-depends, dependencies-of, versions-of, env-of, find-pkg.

All of them read the package tree from a pinned commit (`--commit`, default HEAD).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from butido_py.cli.context import AppContext
from butido_py.cli.options import (
    choose_format,
    header_option,
    output_options,
    repository_options,
)
from butido_py.cli.render import OutputFormat, print_json, render_rows
from butido_py.config import images as config_images
from butido_py.errors import RepositoryError
from butido_py.package.envspec import EnvSpecError, parse_env_specs
from butido_py.package.model import Dependency, DependencyKind, Package
from butido_py.plan import build_dag
from butido_py.plan.show import dag_json, render_build_order, render_dot, render_tree
from butido_py.script.context import package_context

F = TypeVar("F", bound=Callable[..., Any])
_KINDS = click.Choice([str(kind) for kind in DependencyKind])


def parse_env_option(
    _ctx: click.Context, _param: click.Parameter, values: Sequence[str]
) -> tuple[tuple[str, str], ...]:
    """click callback for `-E KEY=VALUE` options (everything after the first `=` is the value)."""
    try:
        return parse_env_specs(values, os.environ)
    except EnvSpecError as exc:
        raise click.BadParameter(str(exc)) from exc


def env_option(help_text: str) -> Callable[[F], F]:
    """`-E/--env KEY=VALUE` (repeatable); the command receives `env` as (key, value) pairs."""
    return click.option(
        "-E",
        "--env",
        "env",
        multiple=True,
        metavar="KEY=VALUE",
        callback=parse_env_option,
        help=help_text,
    )


_type_option = click.option(
    "-t",
    "--type",
    "types",
    multiple=True,
    type=_KINDS,
    help="Only dependencies of this kind (repeatable; default both).",
)


def expand_image(app: AppContext, image: str) -> str:
    """The full name of a configured image, given its full or short name."""
    return config_images.expand_image(app.config, image)


def _alias(command: click.Command, name: str) -> click.Command:
    alias = copy.copy(command)
    alias.name = name
    alias.short_help = f"Alias of {command.name}."
    return alias


def _kinds(types: Sequence[str]) -> set[DependencyKind]:
    return {DependencyKind(t) for t in types} or set(DependencyKind)


def _condition_text(dependency: Dependency) -> str | None:
    condition = dependency.condition
    if condition is None:
        return None
    parts = []
    if condition.has_env is not None:
        parts.append(f"has_env={','.join(condition.has_env)}")
    if condition.env_eq is not None:
        parts += [f"env_eq:{k}={v}" for k, v in condition.env_eq]
    if condition.in_image is not None:
        parts.append(f"in_image={','.join(condition.in_image)}")
    return " ".join(parts) or "always"


@click.command("tree-of")
@click.argument("name")
@click.argument("constraint", required=False)
@click.option(
    "-I",
    "--image",
    metavar="IMAGE",
    help="Evaluate in_image conditions for this image (full or short name from docker.images; "
    "without -I they are false).",
)
@env_option("Variable for has_env/env_eq conditions (repeatable; KEY alone takes $KEY).")
@click.option("--dot", is_flag=True, help="Print Graphviz DOT (build dependencies dotted).")
@click.option(
    "--serial-buildorder",
    is_flag=True,
    help="Print one package per line, dependencies first (* = build dependency).",
)
@click.option("--json", "as_json", is_flag=True, help="Print nodes, edges and build order as JSON.")
@repository_options
@click.pass_obj
def tree_of(
    app: AppContext,
    name: str,
    constraint: str | None,
    image: str | None,
    env: tuple[tuple[str, str], ...],
    dot: bool,
    serial_buildorder: bool,
    as_json: bool,
    commit: str,
    allow_dirty: bool,
) -> None:
    """Print the dependency tree of NAME (every version matching CONSTRAINT).

    CONSTRAINT: `=V` is exact; `V` matches semver-style (`19` matches 19.0 and 19.3).
    Build dependencies are marked `*`; a shared sub-tree printed before ends in `(*)`.
    """
    if sum((dot, serial_buildorder, as_json)) > 1:
        raise click.UsageError("--dot, --serial-buildorder and --json are mutually exclusive")
    full_image = expand_image(app, image) if image is not None else None
    repository = app.repository(commit, allow_dirty)
    dags = [
        build_dag(repository, package, image=full_image, env=env)
        for package in repository.require(name, constraint)
    ]
    if as_json:
        print_json([dag_json(dag) for dag in dags])
        return
    for index, dag in enumerate(dags):
        if serial_buildorder:
            click.echo("\n".join([*render_build_order(dag), ""]))
            continue
        if index:
            click.echo()
        click.echo("\n".join(render_dot(dag) if dot else render_tree(dag)))


@click.command("what-depends")
@click.argument("name")
@_type_option
@repository_options
@output_options
@click.pass_obj
def what_depends(
    app: AppContext,
    name: str,
    types: Sequence[str],
    commit: str,
    allow_dirty: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List the packages that declare a dependency on NAME (any version, conditions ignored).

    A NAME that no package has and none depends on is an error (exit code 4).
    """
    kinds = _kinds(types)
    repository = app.repository(commit, allow_dirty)
    rows = [
        (package.name, package.version, dependency.text, str(dependency.kind))
        for package in repository.packages
        for dependency in package.dependencies
        if dependency.name == name and dependency.kind in kinds
    ]
    if not rows and not repository.versions_of(name):
        # Most likely a typo: say so instead of printing nothing.
        raise RepositoryError(
            f"no package named {name!r} in commit {repository.commit[:12]}, and none depends on it",
            hint="`butido find-pkg .` lists every package",
        )
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    if fmt in (OutputFormat.TABLE, OutputFormat.PLAIN):
        # butido prints these packages with `package_print_format`, numbered from 1.
        dependents = list(dict.fromkeys(p for p in repository.packages for r in rows
                                        if (p.name, p.version) == r[:2]))  # fmt: skip
        print_packages(app, dependents, dependency_flags(kinds), start=1)
        return
    render_rows(["Name", "Version", "Dependency", "Type"], rows, fmt, header=not no_header)


@click.command("dependencies-of")
@click.argument("name")
@click.argument("constraint", required=False)
@_type_option
@repository_options
@output_options
@click.pass_obj
def dependencies_of(
    app: AppContext,
    name: str,
    constraint: str | None,
    types: Sequence[str],
    commit: str,
    allow_dirty: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List the declared (direct) dependencies of NAME [CONSTRAINT], with their conditions."""
    kinds = _kinds(types)
    packages = app.repository(commit, allow_dirty).require(name, constraint)
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    if fmt in (OutputFormat.TABLE, OutputFormat.PLAIN):
        # butido prints the packages with `package_print_format`, numbered from 0.
        print_packages(app, packages, dependency_flags(kinds), start=0)
        return
    rows = [
        (
            package.name,
            package.version,
            f"{dependency.name} {dependency.version}",
            str(dependency.kind),
            _condition_text(dependency),
        )
        for package in packages
        for dependency in package.dependencies
        if dependency.kind in kinds
    ]
    headers = ["Name", "Version", "Dependency", "Type", "Condition"]
    render_rows(headers, rows, fmt, header=not no_header)


@click.command("versions-of")
@click.argument("name")
@repository_options
@output_options
@click.pass_obj
def versions_of(
    app: AppContext,
    name: str,
    commit: str,
    allow_dirty: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List the versions of NAME, one per line (plain string order, as butido)."""
    packages = app.repository(commit, allow_dirty).require(name)
    rows = [(p.version, p.pkg_toml) for p in packages]
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    if fmt is OutputFormat.PLAIN:
        click.echo("\n".join(p.version for p in packages))
        return
    render_rows(["Version", "pkg.toml"], rows, fmt, header=not no_header)


@click.command("env-of")
@click.argument("name")
@click.argument("version")
@repository_options
@output_options
@click.pass_obj
def env_of(
    app: AppContext,
    name: str,
    version: str,
    commit: str,
    allow_dirty: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """Print the `environment` of package NAME VERSION (exact version)."""
    package = app.repository(commit, allow_dirty).require(name, "=" + version.lstrip("="))[0]
    environment = package.environment or ()
    if as_json:
        print_json(dict(environment))
        return
    if as_csv:
        render_rows(["Key", "Value"], environment, OutputFormat.CSV, header=not no_header)
        return
    if not environment:
        click.echo("No environment")
    for key, value in environment:
        click.echo(f"{key} = '{value}'")


_SECTIONS = (
    ("print_sources", ("-S", "--sources", "--source"), "Print the sources."),
    ("print_dependencies", ("-D", "--dependencies", "--deps"), "Print the dependencies."),
    ("print_patches", ("-p", "--patches"), "Print the patches."),
    ("print_env", ("-E", "--env"), "Print the environment."),
    ("print_flags", ("-F", "--flags"), "Accepted for butido compatibility (prints nothing)."),
    ("print_allowed_images", ("--allowed-images",), "Print the allowed images."),
    ("print_denied_images", ("--denied-images",), "Print the denied images."),
    ("print_phases", ("-P", "--phases"), "Print the phase names."),
    ("print_script", ("-s", "--script"), "Print the rendered script."),
)


def _section_options(func: F) -> F:
    """One flag per section of `package_print_format`; the command receives `sections`."""
    for dest, flags, help_text in reversed(_SECTIONS):
        func = click.option(*flags, dest, is_flag=True, help=help_text)(func)
    return func


@click.command("find-pkg")
@click.argument("regex")
@click.argument("constraint", required=False)
@click.option("-t", "--terse", is_flag=True, help="Print only `name version` lines.")
@_section_options
@click.option("-A", "--all", "print_all", is_flag=True, help="Print every section.")
@click.option(
    "--dependency-type",
    "dependency_types",
    multiple=True,
    type=_KINDS,
    help="Dependencies of this kind in the dependency section (repeatable; default both).",
)
@click.option(
    "--line-numbers/--no-line-numbers",
    default=True,
    show_default=True,
    help="Number the lines of --script.",
)
@click.option(
    "--highlighting/--no-highlighting",
    "--highlight/--no-highlight",
    default=None,
    help="Highlight --script (default: on a terminal, unless NO_COLOR is set).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the packages as JSON (with -s: the scripts)."
)
@click.option("--csv", "as_csv", is_flag=True, help="Print name, version and pkg.toml as CSV.")
@header_option
@click.option("--no-header", is_flag=True, help="Accepted for compatibility (CSV has no header).")
@repository_options
@click.pass_obj
def find_pkg(
    app: AppContext,
    /,
    regex: str,
    constraint: str | None,
    terse: bool,
    print_all: bool,
    dependency_types: Sequence[str],
    line_numbers: bool,
    highlighting: bool | None,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
    commit: str,
    allow_dirty: bool,
    **sections: bool,
) -> None:
    """Find packages whose name matches REGEX (searched, not anchored) and CONSTRAINT.

    Prints each package with `package_print_format`; the flags choose which sections appear.
    """
    # Imported here: the template engine and Pygments take long to import, and the other
    # repository commands in this module do not need them.
    from butido_py.cli.script_display import use_color  # noqa: PLC0415

    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    packages = app.repository(commit, allow_dirty).search(regex, constraint)
    if fmt is OutputFormat.CSV:
        rows = [(p.name, p.version, p.pkg_toml) for p in packages]
        render_rows(["Name", "Version", "pkg.toml"], rows, fmt, header=not no_header)
        return
    if terse:
        click.echo("\n".join(str(p) for p in packages))
        return
    flags: dict[str, object] = {name: value or print_all for name, value in sections.items()}
    if as_json:
        with_script = bool(flags["print_script"])
        print_json([_package_json(app, p, with_script=with_script) for p in packages])
        return
    kinds = _kinds(dependency_types)
    flags["print_any"] = any(flags.values())
    flags["print_build_deps"] = DependencyKind.BUILD in kinds
    flags["print_runtime_deps"] = DependencyKind.RUNTIME in kinds
    highlight = use_color() if highlighting is None else highlighting
    print_packages(app, packages, flags, start=0, line_numbers=line_numbers, highlight=highlight)


def dependency_flags(kinds: set[DependencyKind]) -> dict[str, object]:
    """The template flags of `what-depends` and `dependencies-of` (as butido): only the
    dependency section, of the kinds asked for."""
    flags: dict[str, object] = {dest: False for dest, _flags, _help in _SECTIONS}
    flags.update(print_any=True, print_dependencies=True)
    flags["print_build_deps"] = DependencyKind.BUILD in kinds
    flags["print_runtime_deps"] = DependencyKind.RUNTIME in kinds
    return flags


def print_packages(
    app: AppContext,
    packages: Sequence[Package],
    flags: dict[str, object],
    *,
    start: int,
    line_numbers: bool = False,
    highlight: bool = False,
) -> None:
    """Each package rendered with `package_print_format`, then a line break (butido's
    `writeln!`); `i` counts from `start`."""
    # Imported here: the template engine takes long to import (see find_pkg).
    from butido_py.script.template import compile_template, render_compiled  # noqa: PLC0415

    template = compile_template(app.config.package_print_format)
    for index, package in enumerate(packages, start):
        script = ""
        if flags.get("print_script"):
            script = _formatted_script(app, package, line_numbers=line_numbers, highlight=highlight)
        context = {"i": index, "p": package_context(package), "script": script, **flags}
        click.echo(render_compiled(template, context, strict=False))


def _script(app: AppContext, package: Package) -> str:
    from butido_py.script.render import render_script  # noqa: PLC0415 - see find_pkg

    config = app.config
    return render_script(
        package,
        phases=config.available_phases,
        shebang=config.shebang,
        strict=config.strict_script_interpolation,
    )


def _formatted_script(
    app: AppContext, package: Package, *, line_numbers: bool, highlight: bool
) -> str:
    from butido_py.cli.script_display import format_script  # noqa: PLC0415 - see find_pkg

    return format_script(
        _script(app, package),
        line_numbers=line_numbers,
        highlighting=highlight,
        theme=app.config.script_highlight_theme,
    )


def _package_json(app: AppContext, package: Package, *, with_script: bool) -> dict[str, object]:
    data = package_context(package)
    data["pkg_toml"] = package.pkg_toml
    if with_script:
        data["script"] = _script(app, package)
    return data


COMMANDS: tuple[click.Command, ...] = (
    tree_of,
    what_depends,
    dependencies_of,
    _alias(dependencies_of, "depsof"),
    versions_of,
    _alias(versions_of, "versions"),
    env_of,
    _alias(env_of, "env"),
    find_pkg,
)
