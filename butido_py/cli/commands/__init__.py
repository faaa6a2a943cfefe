"""The command tree: each command's name, the module that defines it, and its short help.

Each module lists its commands in COMMANDS. This table lets `butido --help` and completion list
the commands without importing them; a command's module is imported when the command is used
(cli/lazy.py). tests/unit/cli/test_command_table.py checks the table against the modules.
"""

from __future__ import annotations

from butido_py.cli.lazy import LazyCommand

_MODULE = "butido_py.cli.commands.{}"

TOP_COMMANDS: dict[str, LazyCommand] = {
    "build": LazyCommand(
        _MODULE.format("build_cmd"),
        "Build package NAME (exactly VERSION, if given) and everything it depends on in IMAGE.",
    ),
    "config": LazyCommand(
        _MODULE.format("config_cmd"),
        "Validate and inspect the configuration (files, user config, BUTIDO_* variables).",
    ),
    "db": LazyCommand(
        _MODULE.format("db"),
        "Query and maintain the database (SQLite by default, PostgreSQL for teams and CI).",
    ),
    "dependencies-of": LazyCommand(
        _MODULE.format("repo_cmd"),
        "List the declared (direct) dependencies of NAME [CONSTRAINT], with their conditions.",
    ),
    "depsof": LazyCommand(_MODULE.format("repo_cmd"), "Alias of dependencies-of.", whole=True),
    "endpoint": LazyCommand(
        _MODULE.format("endpoint_cmd"),
        "Commands for the Docker endpoints; with ENDPOINT_NAME only for that endpoint.",
    ),
    "env": LazyCommand(_MODULE.format("repo_cmd"), "Alias of env-of.", whole=True),
    "env-of": LazyCommand(
        _MODULE.format("repo_cmd"),
        "Print the `environment` of package NAME VERSION (exact version).",
    ),
    "find-artifact": LazyCommand(
        _MODULE.format("find_artifact_cmd"),
        "List the artifacts a build of the packages matching REGEX (and CONSTRAINT) would reuse.",
    ),
    "find-pkg": LazyCommand(
        _MODULE.format("repo_cmd"),
        "Find packages whose name matches REGEX (searched, not anchored) and CONSTRAINT.",
    ),
    "generate-completions": LazyCommand(
        _MODULE.format("completions_cmd"),
        "Print the completion script for SHELL (default bash).",
    ),
    "init": LazyCommand(
        _MODULE.format("init_cmd"),
        "Create a package repository in DIRECTORY from butido_py's example.",
    ),
    "lint": LazyCommand(
        _MODULE.format("lint_cmd"),
        "Lint the rendered scripts of all packages, or of NAME (matching CONSTRAINT).",
    ),
    "metrics": LazyCommand(
        _MODULE.format("metrics_cmd"),
        "Print the version, and counts of the configuration, the package repository (at "
        "--commit) and every database table, plus the jobs by state.",
    ),
    "rebuild": LazyCommand(
        _MODULE.format("rebuild_cmd"),
        "Run every job of submit SUBMIT_UUID again and compare the artifacts with the original's.",
    ),
    "release": LazyCommand(
        _MODULE.format("release_cmd"),
        "Copy artifacts of a submit into release stores, and manage released files.",
    ),
    "rerun": LazyCommand(
        _MODULE.format("rerun_cmd"),
        "Run the failed jobs of submit SUBMIT_UUID again and reuse the artifacts of the others.",
    ),
    "serve": LazyCommand(
        _MODULE.format("serve_cmd"),
        "Serve a read-only web view of the database: submits, DAGs, jobs, live logs, packages.",
    ),
    "source": LazyCommand(
        _MODULE.format("source_cmd"),
        "Verify, download and list the sources of packages.",
    ),
    "tree-of": LazyCommand(
        _MODULE.format("repo_cmd"),
        "Print the dependency tree of NAME (every version matching CONSTRAINT).",
    ),
    "versions": LazyCommand(_MODULE.format("repo_cmd"), "Alias of versions-of.", whole=True),
    "versions-of": LazyCommand(
        _MODULE.format("repo_cmd"),
        "List the versions of NAME, one per line (plain string order, as butido).",
    ),
    "what-depends": LazyCommand(
        _MODULE.format("repo_cmd"),
        "List the packages that declare a dependency on NAME (any version, conditions ignored).",
    ),
}
