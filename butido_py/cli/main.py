"""The `butido` command: global options, the command tree, and the one place errors are caught."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import click

from butido_py import CONFIGURATION_VERSION, __version__, tracing
from butido_py.cli.commands import TOP_COMMANDS
from butido_py.cli.context import AppContext
from butido_py.cli.examples import DOCS
from butido_py.cli.lazy import LazyGroup
from butido_py.errors import ButidoError, ExitCode

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def version_text() -> str:
    return (
        f"butido_py {__version__}\n"
        f"configuration compatibility: {CONFIGURATION_VERSION}\n"
        f"python: {platform.python_version()} ({sys.executable})"
    )


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(version_text())
    ctx.exit(0)


@click.group(cls=LazyGroup, lazy=TOP_COMMANDS, context_settings=CONTEXT_SETTINGS, epilog=DOCS)
@click.option(
    "-V",
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print version information and exit.",
)
@click.option("--debug", is_flag=True, help="Verbose logging; show tracebacks of errors.")
@click.option(
    "-v", "--verbose", is_flag=True, help="More detail (the build report lists every path)."
)
@click.option(
    "--tracing-chrome",
    is_flag=True,
    help="Write a trace-<time>.json (chrome://tracing, Perfetto) into the current directory.",
)
@click.option(
    "--hide-bars", is_flag=True, help="Hide progress bars (always hidden off a terminal)."
)
@click.option(
    "-c",
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read FILE instead of <repository>/config.toml (the user config and BUTIDO_* "
    "variables still apply).",
)
@click.option("--db-url", "db_host", metavar="HOST", help="Database host (butido's name for it).")
@click.option("--db-port", type=click.IntRange(1, 65535), help="Database port.")
@click.option("--db-user", help="Database user.")
@click.option("--db-password", "--db-pw", "db_password", help="Database password.")
@click.option("--db-name", help="Database name.")
@click.option("--db-timeout", type=click.IntRange(min=1), help="Database connection timeout (s).")
@click.pass_context
def cli(
    ctx: click.Context,
    debug: bool,
    verbose: bool,
    tracing_chrome: bool,
    hide_bars: bool,
    config_file: Path | None,
    db_host: str | None,
    db_port: int | None,
    db_user: str | None,
    db_password: str | None,
    db_name: str | None,
    db_timeout: int | None,
) -> None:
    """butido_py: reproducible container builds from a git repository of pkg.toml files.

    Configuration is read from <repository>/config.toml, then
    $XDG_CONFIG_HOME/butido/config.toml, then BUTIDO_<KEY> environment variables.
    """
    app = ctx.ensure_object(AppContext)
    app.debug = debug
    app.verbose = verbose
    if tracing_chrome:
        tracing.enable()
    app.hide_bars = hide_bars
    app.config_file = config_file
    # Imported here: the configuration modules are not needed for --version and --help.
    from butido_py.config.database import DatabaseOverrides  # noqa: PLC0415

    app.db_overrides = DatabaseOverrides(
        host=db_host,
        port=db_port,
        user=db_user,
        password=db_password,
        name=db_name,
        timeout=db_timeout,
    )
    from butido_py.cli.warnings import install  # noqa: PLC0415 - next to the one use

    install(debug=debug)


def report_error(error: ButidoError) -> None:
    lines = error.message.splitlines() or [""]
    from butido_py.cli.warnings import echo_styled  # noqa: PLC0415 - only when there is one

    for line in lines:
        echo_styled(f"error: {line}", "red")
    if error.hint:
        click.echo(f"hint: {error.hint}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the command tree and maps every error to its exit code."""
    app = AppContext()
    with tracing.span("butido", argv=" ".join(argv if argv is not None else sys.argv[1:])):
        code = run(app, argv)
    if tracing.is_enabled():
        click.echo(f"trace written to {tracing.write_trace(Path.cwd())}", err=True)
    sys.exit(code)


#: The global options, accepted anywhere on the line (`build … --hide-bars`): no command has an
#: option of the same name, so `hoist_global_options` can move them before the command.
GLOBAL_FLAGS = frozenset({"--debug", "--tracing-chrome", "--hide-bars", "-v", "--verbose"})
GLOBAL_WITH_VALUE = frozenset(
    {"-c", "--config", "--db-url", "--db-port", "--db-user", "--db-password", "--db-pw",
     "--db-name", "--db-timeout"}
)  # fmt: skip
#: Commands whose arguments after this word are another program's (`endpoint container ID exec
#: sh -c …`): nothing from there on is a global option.
PASS_THROUGH = frozenset({"exec"})


def hoist_global_options(argv: list[str]) -> list[str]:
    """`argv` with every global option (and its value) moved to the front, in order; nothing
    after `--` or after a pass-through command word (`exec`) is touched."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--" or arg in PASS_THROUGH:
            rest.extend(argv[index:])
            break
        name = arg.split("=", 1)[0]
        if arg in GLOBAL_FLAGS or (name in GLOBAL_WITH_VALUE and "=" in arg):
            front.append(arg)
        elif arg in GLOBAL_WITH_VALUE and index + 1 < len(argv):
            front.extend(argv[index : index + 2])
            index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


def report_click_error(error: click.ClickException) -> int:
    """click's errors in the house style; a usage error (exit 2) with a `hint:` naming the
    command's help."""
    if not isinstance(error, click.UsageError):
        report_error(ButidoError(error.format_message()))
        return error.exit_code
    command = error.ctx.command_path if error.ctx is not None else "butido"
    report_error(ButidoError(error.format_message(), hint=f"see `{command} --help`"))
    return ExitCode.USAGE


def run(app: AppContext, argv: list[str] | None) -> int:
    """Run one command; the one place where errors become messages and exit codes."""
    args = hoist_global_options(sys.argv[1:] if argv is None else list(argv))
    try:
        # Without standalone mode click returns the exit code of --help and the like.
        result = cli.main(args=args, prog_name="butido", standalone_mode=False, obj=app)
    except ButidoError as error:
        if app.debug:
            import traceback  # noqa: PLC0415 - only --debug shows tracebacks

            traceback.print_exc()
        report_error(error)
        return error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        return report_click_error(error)
    except (click.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error worth a traceback.
        sys.stderr.close()
        return ExitCode.OK
    return result if isinstance(result, int) else ExitCode.OK
