"""`butido endpoint [NAME] …`: look after the configured Docker endpoints (app/endpoints.py does
the work; these commands parse and render)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from butido_py.app import endpoints as app_endpoints
from butido_py.app.endpoints import ChosenContainer, ContainerQuery, EndpointHealth, Selection
from butido_py.cli.confirm import confirm
from butido_py.cli.context import AppContext
from butido_py.cli.image_filter import image_filter
from butido_py.cli.options import (
    choose_format,
    newer_than_option,
    older_than_option,
    output_options,
)
from butido_py.cli.render import OutputFormat, print_json, render_rows

if TYPE_CHECKING:
    from butido_py.app.services import Services

F = TypeVar("F", bound=Callable[..., Any])


class EndpointGroup(click.Group):
    """`butido endpoint [NAME] SUBCOMMAND`: an optional endpoint name before the subcommand.

    click cannot express an optional argument in front of a subcommand, so a first argument that
    is not a subcommand (and not an option) is taken as the endpoint name.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            ctx.meta["butido.endpoint_name"] = args[0]
            args = args[1:]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[ENDPOINT_NAME] COMMAND [ARGS]...")


@click.group("endpoint", cls=EndpointGroup)
def endpoint_group() -> None:
    """Commands for the Docker endpoints; with ENDPOINT_NAME only for that endpoint."""


def _context(ctx: click.Context) -> tuple[Services, str | None]:
    """The services and the endpoint named before the subcommand (None: all of them)."""
    app = ctx.find_object(AppContext)
    assert app is not None  # noqa: S101 - main() always provides it
    name: str | None = ctx.meta.get("butido.endpoint_name")
    return app.services(), name


@endpoint_group.command("ping")
@click.option(
    "-n",
    "--times",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Pings per endpoint.",
)
@click.option(
    "--sleep",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds between pings.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the round trips as JSON.")
@click.pass_context
def ping(ctx: click.Context, times: int, sleep: float, as_json: bool) -> None:
    """Ping each selected endpoint; fail on the first endpoint that does not answer."""

    def echo_round(endpoint: str, attempt: int, seconds: float) -> None:
        if not as_json:
            click.echo(f"{endpoint}: ping {attempt}/{times}: {seconds * 1000:.1f} ms")

    services, name = _context(ctx)
    result = app_endpoints.ping_endpoints(
        services, name, times=times, sleep=sleep, on_round=echo_round
    )
    if as_json:
        failed = {"failed": result.failed} if result.failed else {}
        print_json({"ok": result.error is None, **failed, "round_trips": result.round_trips})
    if result.error is not None:
        raise result.error


@endpoint_group.command("stats")
@output_options
@click.pass_context
def stats(ctx: click.Context, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """Engine facts of each endpoint (containers, images, kernel, memory, cores) and its health
    in the database (disabled, quarantined until, consecutive failures)."""
    result = app_endpoints.endpoint_stats(*_context(ctx))
    rows = []
    for report in result.reports:
        h = report.health
        health = (h.disabled, h.quarantined_until.isoformat() if h.quarantined_until else None,
                  h.failures)  # fmt: skip
        s = report.stats
        if s is None:
            rows.append((h.endpoint.name, *[None] * 9, *health))
            continue
        rows.append(
            (s.endpoint, s.containers, s.images, s.engine_id, s.kernel, _human_bytes(s.memory),
             s.cores, s.os, s.system_time, s.version, *health)
        )  # fmt: skip
    headers = ["Name", "Containers", "Images", "Id", "Kernel", "Memory", "Cores", "OS",
               "System Time", "Version", "Disabled", "Quarantined Until", "Failures"]  # fmt: skip
    render_rows(headers, rows, choose_format(as_json=as_json, as_csv=as_csv), header=not no_header)
    failure = result.failure()
    if failure is not None:
        raise failure


@endpoint_group.command("list")
@output_options
@click.pass_context
def endpoint_list(ctx: click.Context, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """The configured endpoints and their health in the database, without asking the engines:
    whether builds use them (`enabled`, `disabled`, `quarantined` after infrastructure failures,
    until when) and their consecutive infrastructure failures."""
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    rows = [_list_row(h, fmt) for h in app_endpoints.endpoint_health(*_context(ctx))]
    headers = ["Name", "URI", "Maxjobs", "State", "Quarantined Until", "Failures"]
    render_rows(headers, rows, fmt, header=not no_header)


def _list_row(health: EndpointHealth, fmt: OutputFormat) -> tuple[object, ...]:
    until = health.quarantined_until
    shown_until = None
    if until is not None:
        shown_until = (
            until.isoformat() if fmt is OutputFormat.JSON else until.strftime("%Y-%m-%d %H:%M:%S")
        )
    state = None if health.state is None else str(health.state)
    endpoint = health.endpoint
    return (endpoint.name, endpoint.uri, endpoint.maxjobs, state, shown_until, health.failures)


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


@endpoint_group.group("containers")
def containers_group() -> None:
    """butido's containers on the endpoints (all containers with --all)."""


_all_option = click.option(
    "--all", "include_foreign", is_flag=True, help="Include containers butido did not start."
)
_all_maintenance_option = click.option(
    "--all",
    "include_foreign",
    is_flag=True,
    help="Also containers butido did not start and those of submits this database does not know "
    "(never those of a running build).",
)
_yes_option = click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")


def _age_options(func: F) -> F:
    """--older-than and --newer-than, on the containers' creation time."""
    return older_than_option(newer_than_option(func))


@containers_group.command("list")
@click.option("--list-stopped", is_flag=True, help="Also list stopped containers.")
@click.option("-I", "--image", callback=image_filter, help="Only containers of this image.")
@_all_option
@_age_options
@output_options
@click.pass_context
def containers_list(
    ctx: click.Context,
    list_stopped: bool,
    image: str | None,
    include_foreign: bool,
    older_than: datetime | None,
    newer_than: datetime | None,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List containers: endpoint, id, image, creation time, state, and butido's job labels."""
    services, name = _context(ctx)
    query = ContainerQuery(name, list_stopped, include_foreign, image, older_than, newer_than)
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    full = fmt is OutputFormat.JSON  # JSON: full ids and the time with its zone (docs/json.md)
    rows = [
        (c.endpoint, c.id if full else c.id[:12], c.image,
         c.image_id if full else c.image_id.removeprefix("sha256:")[:12], _created(c.created, fmt),
         c.state, c.label("butido.job"), c.label("butido.package"), c.label("butido.version"))
        for c in app_endpoints.find_containers(services, query)
    ]  # fmt: skip
    headers = ["Endpoint", "Container", "Image", "Image Id", "Created", "State", "Job",
               "Package", "Version"]  # fmt: skip
    render_rows(headers, rows, fmt, header=not no_header)


def _created(created: datetime, fmt: OutputFormat) -> str:
    return (
        created.isoformat() if fmt is OutputFormat.JSON else created.strftime("%Y-%m-%d %H:%M:%S")
    )


def _echo_left(selection: Selection, what: str) -> None:
    for owner, count in selection.left.items():
        click.echo(f"left {count} {what} container(s): {app_endpoints.LEFT_REASONS[owner]}")


@containers_group.command("prune")
@_all_maintenance_option
@_age_options
@_yes_option
@click.pass_context
def containers_prune(
    ctx: click.Context,
    include_foreign: bool,
    older_than: datetime | None,
    newer_than: datetime | None,
    yes: bool,
) -> None:
    """Remove stopped containers (exited, created or dead) of builds that are over.

    Never those of a running build (a `created` one is a job being prepared); those of submits
    this database does not know only with --all."""
    services, name = _context(ctx)
    query = ContainerQuery(
        name, include_foreign=include_foreign, older_than=older_than, newer_than=newer_than
    )
    selection = app_endpoints.stopped_containers(services, query)
    _echo_left(selection, "stopped")
    if not selection.chosen:
        click.echo("no stopped containers to remove")
        return
    confirm(f"Really remove {len(selection.chosen)} container(s)?", yes=yes)
    for c in app_endpoints.remove_containers(services, selection.chosen):
        click.echo(f"removed {c.endpoint} {c.id[:12]}")


@containers_group.command("stop")
@click.option("-t", "--timeout", default=10, show_default=True, type=click.IntRange(min=0),
              help="Seconds to wait before killing.")  # fmt: skip
@_all_maintenance_option
@_age_options
@_yes_option
@click.pass_context
def containers_stop(
    ctx: click.Context,
    timeout: int,
    include_foreign: bool,
    older_than: datetime | None,
    newer_than: datetime | None,
    yes: bool,
) -> None:
    """Stop running containers of builds that are over (butido selected exited ones; this
    selects running ones); never those of a running build."""
    services, name = _context(ctx)
    query = ContainerQuery(
        name, include_foreign=include_foreign, older_than=older_than, newer_than=newer_than
    )
    selection = app_endpoints.running_containers(services, query)
    _echo_left(selection, "running")
    if not selection.chosen:
        click.echo("no running containers to stop")
        return
    confirm(f"Really stop {len(selection.chosen)} container(s)?", yes=yes)
    for c in app_endpoints.stop_containers(services, selection.chosen, timeout=timeout):
        click.echo(f"stopped {c.endpoint} {c.id[:12]}")


@containers_group.command("top")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="Only the N newest running containers.")  # fmt: skip
@_all_option
@_age_options
@output_options
@click.pass_context
def containers_top(
    ctx: click.Context,
    limit: int | None,
    include_foreign: bool,
    older_than: datetime | None,
    newer_than: datetime | None,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """The processes of every running container (of the N newest with --limit)."""
    services, name = _context(ctx)
    query = ContainerQuery(
        name, include_foreign=include_foreign, older_than=older_than, newer_than=newer_than
    )
    found = app_endpoints.container_processes(services, query, limit=limit)
    render_rows(["Endpoint", "Container", *found.titles], found.rows,
                choose_format(as_json=as_json, as_csv=as_csv), header=not no_header)  # fmt: skip


@endpoint_group.group("images")
def images_group() -> None:
    """Images on the endpoints."""


@images_group.command("list")
@output_options
@click.pass_context
def images_list(ctx: click.Context, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """Every image of each endpoint: creation time, tags (or id), size."""
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    rows = [
        (i.endpoint, _created(i.created, fmt),
         ", ".join(i.tags) or i.id.removeprefix("sha256:")[:12], _human_bytes(i.size))
        for i in app_endpoints.endpoint_images(*_context(ctx))
    ]  # fmt: skip
    render_rows(["Endpoint", "Created", "Tags", "Size"], rows, fmt, header=not no_header)


@images_group.command("verify-present")
@output_options
@click.pass_context
def images_verify_present(ctx: click.Context, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """Check that every configured image is on every endpoint; exit 1 if one is missing."""
    found = app_endpoints.verify_images(*_context(ctx))
    rows = [(p.endpoint, p.image, "found" if p.present else "missing") for p in found]
    render_rows(["Endpoint", "Image", "State"], rows,
                choose_format(as_json=as_json, as_csv=as_csv), header=not no_header)  # fmt: skip
    missing = app_endpoints.missing_images_error(found)
    if missing is not None:
        raise missing


@endpoint_group.group("container")
@click.argument("container_id")
@_all_option
@click.pass_context
def container_group(ctx: click.Context, container_id: str, include_foreign: bool) -> None:
    """Act on one container (an id, id prefix or name) of butido's (any with --all)."""
    services, name = _context(ctx)
    ctx.meta["butido.container"] = app_endpoints.find_container(
        services, name, container_id, include_foreign=include_foreign
    )


def _chosen(ctx: click.Context) -> ChosenContainer:
    found: ChosenContainer = ctx.meta["butido.container"]
    return found


@container_group.command("inspect")
@click.pass_context
def container_inspect(ctx: click.Context) -> None:
    """Docker's full description of the container, as JSON."""
    print_json(app_endpoints.inspect_container(_chosen(ctx)))


@container_group.command("top")
@output_options
@click.pass_context
def container_top(ctx: click.Context, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """The processes of the (running) container."""
    titles, processes = app_endpoints.container_top(_chosen(ctx))
    render_rows(titles, processes, choose_format(as_json=as_json, as_csv=as_csv),
                header=not no_header)  # fmt: skip


@container_group.command("kill")
@click.argument("signal", default="SIGKILL")
@_yes_option
@click.pass_context
def container_kill(ctx: click.Context, signal: str, yes: bool) -> None:
    """Send SIGNAL (default SIGKILL) to the container."""
    chosen = _chosen(ctx)
    confirm(f"Really send {signal} to {_where(chosen)}?", yes=yes)
    app_endpoints.signal_container(chosen, signal)
    click.echo(f"sent {signal} to {chosen.label}")


def _where(chosen: ChosenContainer) -> str:
    return f"{chosen.container.id[:12]} on {chosen.endpoint.name}"


@container_group.command("delete")
@_yes_option
@click.pass_context
def container_delete(ctx: click.Context, yes: bool) -> None:
    """Remove the container (running ones are killed first)."""
    chosen = _chosen(ctx)
    confirm(f"Really delete {_where(chosen)}?", yes=yes)
    app_endpoints.delete_container(chosen)
    click.echo(f"removed {chosen.label}")


@container_group.command("start")
@click.pass_context
def container_start(ctx: click.Context) -> None:
    """Start the (stopped) container again."""
    chosen = _chosen(ctx)
    app_endpoints.start_container(chosen)
    click.echo(f"started {chosen.label}")


@container_group.command("stop")
@click.option("-t", "--timeout", default=10, show_default=True, type=click.IntRange(min=0),
              help="Seconds to wait before killing.")  # fmt: skip
@_yes_option
@click.pass_context
def container_stop(ctx: click.Context, timeout: int, yes: bool) -> None:
    """Stop the container."""
    chosen = _chosen(ctx)
    confirm(f"Really stop {_where(chosen)}?", yes=yes)
    app_endpoints.stop_container(chosen, timeout=timeout)
    click.echo(f"stopped {chosen.label}")


@container_group.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def container_exec(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Run COMMAND in the running container (no TTY); exit with its exit code."""
    code, output = app_endpoints.exec_in_container(_chosen(ctx), command)
    click.echo(output, nl=False)
    ctx.exit(code)


# --- endpoint disable / enable ------------------------------------------------------------------


def _set_disabled(ctx: click.Context, name: str | None, *, disabled: bool, as_json: bool) -> None:
    services, given = _context(ctx)
    if name is not None and given is not None and name != given:
        raise click.UsageError(f"two endpoint names given: {given} and {name}")
    name = name or given
    if name is None:
        raise click.UsageError("missing endpoint NAME")
    record = app_endpoints.set_disabled(services, name, disabled=disabled)
    if as_json:
        # The keys of the endpoint object (docs/json.md), as `endpoint list|stats --json`.
        until = record.quarantined_until
        print_json({"name": record.name, "disabled": record.disabled,
                    "quarantined_until": until.isoformat() if until else None,
                    "failures": record.consecutive_failures})  # fmt: skip
    elif disabled:
        click.echo(f"endpoint {name} disabled: builds schedule no jobs on it")
    else:
        click.echo(f"endpoint {name} enabled: builds schedule jobs on it again")


_name_argument = click.argument("name", required=False)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print the endpoint's health.")


@endpoint_group.command("disable")
@_name_argument
@_json_option
@click.pass_context
def disable(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """Record in the database that builds must not use endpoint NAME (until `enable`).

    Jobs already running there are not touched.
    """
    _set_disabled(ctx, name, disabled=True, as_json=as_json)


@endpoint_group.command("enable")
@_name_argument
@_json_option
@click.pass_context
def enable(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """Let builds use endpoint NAME again; also lifts a quarantine after failures."""
    _set_disabled(ctx, name, disabled=False, as_json=as_json)


COMMANDS: tuple[click.Command, ...] = (endpoint_group,)
