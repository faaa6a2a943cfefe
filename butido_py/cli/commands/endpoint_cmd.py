"""`butido endpoint [NAME] …`: look after the configured Docker endpoints."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from butido_py.cli.confirm import confirm
from butido_py.cli.context import AppContext
from butido_py.cli.options import choose_format, output_options
from butido_py.cli.render import OutputFormat, print_json, render_rows
from butido_py.config.model import EndpointConfig
from butido_py.endpoint import docker_hosts
from butido_py.endpoint.docker import ping as ping_endpoint
from butido_py.endpoint.docker_hosts import ContainerRecord
from butido_py.errors import ButidoError, DatabaseError, EndpointError

if TYPE_CHECKING:
    from butido_py.db.records import EndpointRecord


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


def selected_endpoints(app: AppContext, ctx: click.Context) -> list[EndpointConfig]:
    """The endpoint named before the subcommand, or all configured endpoints."""
    name = ctx.meta.get("butido.endpoint_name")
    endpoints = list(app.config.docker.endpoints)
    if name is None:
        return endpoints
    chosen = [e for e in endpoints if e.name == name]
    if not chosen:
        raise EndpointError(
            f"endpoint {name!r} is not configured",
            hint=f"configured endpoints: {', '.join(e.name for e in endpoints)}",
        )
    return chosen


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
    results: dict[str, list[float]] = {}
    for endpoint in _endpoints(ctx):
        rounds = results.setdefault(endpoint.name, [])
        for attempt in range(1, times + 1):
            try:
                rounds.append(ping_endpoint(endpoint))
            except ButidoError:
                if as_json:
                    print_json({"ok": False, "failed": endpoint.name, "round_trips": results})
                raise
            if not as_json:
                click.echo(f"{endpoint.name}: ping {attempt}/{times}: {rounds[-1] * 1000:.1f} ms")
            if attempt < times and sleep:
                time.sleep(sleep)
    if as_json:
        print_json({"ok": True, "round_trips": results})


def _endpoints(ctx: click.Context) -> list[EndpointConfig]:
    app = ctx.find_object(AppContext)
    assert app is not None  # noqa: S101 - main() always provides it
    return selected_endpoints(app, ctx)


@endpoint_group.command("stats")
@output_options
@click.pass_context
def stats(ctx: click.Context, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """Engine facts of each endpoint (containers, images, kernel, memory, cores) and its health
    in the database (disabled, quarantined until, consecutive failures)."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    endpoints = _endpoints(ctx)
    health = _health(ctx)
    # All engines at once; one that does not answer is a row of its own and an error at the end,
    # the others are still shown.
    with ThreadPoolExecutor(max_workers=min(8, len(endpoints)) or 1) as pool:
        answers = list(pool.map(_engine_stats, endpoints))
    rows = []
    failed: list[tuple[str, EndpointError]] = []
    for endpoint, answer in zip(endpoints, answers, strict=True):
        record = health.get(endpoint.name) if health is not None else None
        disabled = None if health is None else (record is not None and record.disabled)
        quarantine = (
            record.quarantined_until.isoformat() if record and record.quarantined_until else None
        )
        failures = record.consecutive_failures if record else (0 if health is not None else None)
        if isinstance(answer, EndpointError):
            failed.append((endpoint.name, answer))
            rows.append((endpoint.name, *[None] * 9, disabled, quarantine, failures))
            continue
        s = answer
        rows.append(
            (s.endpoint, s.containers, s.images, s.engine_id, s.kernel, _human_bytes(s.memory),
             s.cores, s.os, s.system_time, s.version, disabled, quarantine, failures)
        )  # fmt: skip
    headers = ["Name", "Containers", "Images", "Id", "Kernel", "Memory", "Cores", "OS",
               "System Time", "Version", "Disabled", "Quarantined Until", "Failures"]  # fmt: skip
    render_rows(headers, rows, choose_format(as_json=as_json, as_csv=as_csv), header=not no_header)
    if len(failed) == 1:
        raise failed[0][1]
    if failed:
        names = ", ".join(repr(name) for name, _ in failed)
        first = failed[0][1]
        raise EndpointError(
            f"{len(failed)} of {len(endpoints)} endpoints did not answer ({names}): "
            f"{first.message}",
            hint=first.hint,
        )


def _engine_stats(endpoint: EndpointConfig) -> docker_hosts.EngineStats | EndpointError:
    try:
        return docker_hosts.engine_stats(endpoint)
    except EndpointError as error:
        return error


@endpoint_group.command("list")
@output_options
@click.pass_context
def endpoint_list(ctx: click.Context, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """The configured endpoints and their health in the database, without asking the engines:
    whether builds use them (`enabled`, `disabled`, `quarantined` after infrastructure failures,
    until when) and their consecutive infrastructure failures."""
    from datetime import UTC, datetime  # noqa: PLC0415

    health = _health(ctx)
    now = datetime.now(UTC)
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    rows = []
    for endpoint in _endpoints(ctx):
        record = health.get(endpoint.name) if health is not None else None
        until = record.quarantined_until if record is not None else None
        if health is None:
            state = None
        elif record is not None and record.disabled:
            state = "disabled"
        elif until is not None and until > now:
            state = "quarantined"
        else:
            state = "enabled"
        shown_until = None
        if until is not None:
            shown_until = (
                until.isoformat()
                if fmt is OutputFormat.JSON
                else until.strftime("%Y-%m-%d %H:%M:%S")
            )
        failures = record.consecutive_failures if record else (0 if health is not None else None)
        rows.append((endpoint.name, endpoint.uri, endpoint.maxjobs, state, shown_until, failures))
    headers = ["Name", "URI", "Maxjobs", "State", "Quarantined Until", "Failures"]
    render_rows(headers, rows, fmt, header=not no_header)


def _health(ctx: click.Context) -> dict[str, EndpointRecord] | None:
    """The endpoints' health from the database; None (shown as unknown) when it cannot be read:
    stats must work on a host without a database."""
    app = ctx.find_object(AppContext)
    assert app is not None  # noqa: S101 - main() always provides it
    from butido_py.db.endpoints import list_endpoints  # noqa: PLC0415 - SQLAlchemy is slow

    try:
        return {record.name: record for record in list_endpoints(app.database())}
    except DatabaseError as exc:
        click.echo(f"warning: endpoint health unknown: {exc.message}", err=True)
        return None


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
_yes_option = click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")


def _containers(
    ctx: click.Context, *, stopped: bool, include_foreign: bool, image: str | None = None
) -> list[ContainerRecord]:
    found = [
        container
        for endpoint in _endpoints(ctx)
        for container in docker_hosts.list_containers(
            endpoint, include_stopped=stopped, include_foreign=include_foreign
        )
    ]
    return [c for c in found if image is None or c.image == image]


@containers_group.command("list")
@click.option("--list-stopped", is_flag=True, help="Also list stopped containers.")
@click.option("-I", "--image", help="Only containers of this image.")
@_all_option
@output_options
@click.pass_context
def containers_list(
    ctx: click.Context,
    list_stopped: bool,
    image: str | None,
    include_foreign: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List containers: endpoint, id, image, creation time, state, and butido's job labels."""
    found = _containers(ctx, stopped=list_stopped, include_foreign=include_foreign, image=image)
    rows = [
        (c.endpoint, c.id[:12], c.image, c.image_id.removeprefix("sha256:")[:12],
         c.created.strftime("%Y-%m-%d %H:%M:%S"), c.state, c.label("butido.job"),
         c.label("butido.package"), c.label("butido.version"))
        for c in found
    ]  # fmt: skip
    headers = ["Endpoint", "Container", "Image", "Image Id", "Created", "State", "Job",
               "Package", "Version"]  # fmt: skip
    render_rows(headers, rows, choose_format(as_json=as_json, as_csv=as_csv), header=not no_header)


@containers_group.command("prune")
@_all_option
@_yes_option
@click.pass_context
def containers_prune(ctx: click.Context, include_foreign: bool, yes: bool) -> None:
    """Remove stopped containers (exited, created or dead)."""
    doomed = [
        c
        for c in _containers(ctx, stopped=True, include_foreign=include_foreign)
        if c.state in ("exited", "created", "dead")
    ]
    if not doomed:
        click.echo("no stopped containers to remove")
        return
    confirm(f"Really remove {len(doomed)} container(s)?", yes=yes)
    for endpoint in _endpoints(ctx):
        ids = [c.id for c in doomed if c.endpoint == endpoint.name]
        docker_hosts.remove_containers(endpoint, ids)
        for container_id in ids:
            click.echo(f"removed {endpoint.name} {container_id[:12]}")


@containers_group.command("stop")
@click.option("-t", "--timeout", default=10, show_default=True, type=click.IntRange(min=0),
              help="Seconds to wait before killing.")  # fmt: skip
@_all_option
@_yes_option
@click.pass_context
def containers_stop(ctx: click.Context, timeout: int, include_foreign: bool, yes: bool) -> None:
    """Stop running containers (butido selected exited ones; this selects running ones)."""
    running = [
        c for c in _containers(ctx, stopped=False, include_foreign=include_foreign)
        if c.state == "running"
    ]  # fmt: skip
    if not running:
        click.echo("no running containers to stop")
        return
    confirm(f"Really stop {len(running)} container(s)?", yes=yes)
    for endpoint in _endpoints(ctx):
        ids = [c.id for c in running if c.endpoint == endpoint.name]
        docker_hosts.stop_containers(endpoint, ids, timeout=timeout)
        for container_id in ids:
            click.echo(f"stopped {endpoint.name} {container_id[:12]}")


@containers_group.command("top")
@_all_option
@output_options
@click.pass_context
def containers_top(
    ctx: click.Context, include_foreign: bool, as_json: bool, as_csv: bool, no_header: bool
) -> None:
    """The processes of every running container."""
    rows: list[tuple[object, ...]] = []
    titles: list[str] = []
    for endpoint in _endpoints(ctx):
        for c in docker_hosts.list_containers(
            endpoint, include_stopped=False, include_foreign=include_foreign
        ):
            titles, processes = docker_hosts.container_top(endpoint, c.id)
            rows += [(endpoint.name, c.id[:12], *process) for process in processes]
    headers = ["Endpoint", "Container", *(titles or ["UID", "PID", "CMD"])]
    rows = [row for row in rows if len(row) == len(headers)]
    render_rows(headers, rows, choose_format(as_json=as_json, as_csv=as_csv), header=not no_header)


@endpoint_group.group("images")
def images_group() -> None:
    """Images on the endpoints."""


@images_group.command("list")
@output_options
@click.pass_context
def images_list(ctx: click.Context, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """Every image of each endpoint: creation time, tags (or id), size."""
    rows = [
        (i.endpoint, i.created.strftime("%Y-%m-%d %H:%M:%S"),
         ", ".join(i.tags) or i.id.removeprefix("sha256:")[:12], _human_bytes(i.size))
        for endpoint in _endpoints(ctx)
        for i in docker_hosts.list_images(endpoint)
    ]  # fmt: skip
    render_rows(["Endpoint", "Created", "Tags", "Size"], rows,
                choose_format(as_json=as_json, as_csv=as_csv), header=not no_header)  # fmt: skip


@images_group.command("verify-present")
@output_options
@click.pass_context
def images_verify_present(ctx: click.Context, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """Check that every configured image is on every endpoint; exit 1 if one is missing."""
    app = ctx.find_object(AppContext)
    assert app is not None  # noqa: S101 - main() always provides it
    names = [image.name for image in app.config.docker.images]
    rows = [
        (endpoint.name, name, "found" if present else "missing")
        for endpoint in _endpoints(ctx)
        for name, present in docker_hosts.images_present(endpoint, names).items()
    ]
    render_rows(["Endpoint", "Image", "State"], rows,
                choose_format(as_json=as_json, as_csv=as_csv), header=not no_header)  # fmt: skip
    missing = [f"{name} on {endpoint}" for endpoint, name, state in rows if state == "missing"]
    if missing:
        raise EndpointError(
            f"{len(missing)} image(s) missing: {', '.join(missing)}",
            hint="builds never pull; build or load the images on the endpoints "
            "(scripts/images shows how)",
        )


@endpoint_group.group("container")
@click.argument("container_id")
@_all_option
@click.pass_context
def container_group(ctx: click.Context, container_id: str, include_foreign: bool) -> None:
    """Act on one container (an id, id prefix or name) of butido's (any with --all)."""
    ctx.meta["butido.container"] = _find_container(ctx, container_id, include_foreign)


def _find_container(
    ctx: click.Context, wanted: str, include_foreign: bool
) -> tuple[EndpointConfig, ContainerRecord]:
    matches = [
        (endpoint, c)
        for endpoint in _endpoints(ctx)
        for c in docker_hosts.list_containers(endpoint, include_stopped=True, include_foreign=True)
        if c.id.startswith(wanted) or c.name == wanted
    ]
    if not matches:
        raise EndpointError(
            f"no container {wanted!r} on {', '.join(e.name for e in _endpoints(ctx))}",
            hint="list them with `butido endpoint containers list --list-stopped`",
        )
    if len(matches) > 1:
        where = ", ".join(f"{c.id[:12]} on {e.name}" for e, c in matches)
        raise EndpointError(
            f"container {wanted!r} is ambiguous: {where}", hint="give more of the id"
        )
    endpoint, container = matches[0]
    if not container.is_butido and not include_foreign:
        raise EndpointError(
            f"container {container.id[:12]} on {endpoint.name!r} was not started by butido",
            hint="pass --all after the container id to act on it anyway",
        )
    return endpoint, container


def _chosen(ctx: click.Context) -> tuple[EndpointConfig, ContainerRecord]:
    found: tuple[EndpointConfig, ContainerRecord] = ctx.meta["butido.container"]
    return found


@container_group.command("inspect")
@click.pass_context
def container_inspect(ctx: click.Context) -> None:
    """Docker's full description of the container, as JSON."""
    endpoint, container = _chosen(ctx)
    print_json(docker_hosts.inspect_container(endpoint, container.id))


@container_group.command("top")
@output_options
@click.pass_context
def container_top(ctx: click.Context, as_json: bool, as_csv: bool, no_header: bool) -> None:
    """The processes of the (running) container."""
    endpoint, container = _chosen(ctx)
    titles, processes = docker_hosts.container_top(endpoint, container.id)
    render_rows(titles, processes, choose_format(as_json=as_json, as_csv=as_csv),
                header=not no_header)  # fmt: skip


@container_group.command("kill")
@click.argument("signal", default="SIGKILL")
@_yes_option
@click.pass_context
def container_kill(ctx: click.Context, signal: str, yes: bool) -> None:
    """Send SIGNAL (default SIGKILL) to the container."""
    endpoint, container = _chosen(ctx)
    confirm(f"Really send {signal} to {container.id[:12]} on {endpoint.name}?", yes=yes)
    docker_hosts.container_action(endpoint, container.id, "kill", signal=signal)
    click.echo(f"sent {signal} to {endpoint.name} {container.id[:12]}")


@container_group.command("delete")
@_yes_option
@click.pass_context
def container_delete(ctx: click.Context, yes: bool) -> None:
    """Remove the container (running ones are killed first)."""
    endpoint, container = _chosen(ctx)
    confirm(f"Really delete {container.id[:12]} on {endpoint.name}?", yes=yes)
    docker_hosts.remove_containers(endpoint, [container.id])
    click.echo(f"removed {endpoint.name} {container.id[:12]}")


@container_group.command("start")
@click.pass_context
def container_start(ctx: click.Context) -> None:
    """Start the (stopped) container again."""
    endpoint, container = _chosen(ctx)
    docker_hosts.container_action(endpoint, container.id, "start")
    click.echo(f"started {endpoint.name} {container.id[:12]}")


@container_group.command("stop")
@click.option("-t", "--timeout", default=10, show_default=True, type=click.IntRange(min=0),
              help="Seconds to wait before killing.")  # fmt: skip
@_yes_option
@click.pass_context
def container_stop(ctx: click.Context, timeout: int, yes: bool) -> None:
    """Stop the container."""
    endpoint, container = _chosen(ctx)
    confirm(f"Really stop {container.id[:12]} on {endpoint.name}?", yes=yes)
    docker_hosts.stop_containers(endpoint, [container.id], timeout=timeout)
    click.echo(f"stopped {endpoint.name} {container.id[:12]}")


@container_group.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def container_exec(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Run COMMAND in the running container (no TTY); exit with its exit code."""
    endpoint, container = _chosen(ctx)
    code, output = docker_hosts.exec_in_container(endpoint, container.id, list(command))
    click.echo(output, nl=False)
    ctx.exit(code)


# --- endpoint disable / enable ------------------------------------------------------------------


def _set_disabled(ctx: click.Context, name: str | None, *, disabled: bool, as_json: bool) -> None:
    app = ctx.find_object(AppContext)
    assert app is not None  # noqa: S101 - main() always provides it
    given = ctx.meta.get("butido.endpoint_name")
    if name is not None and given is not None and name != given:
        raise click.UsageError(f"two endpoint names given: {given} and {name}")
    name = name or given
    if name is None:
        raise click.UsageError("missing endpoint NAME")
    configured = [e.name for e in app.config.docker.endpoints]
    if name not in configured:
        raise EndpointError(
            f"endpoint {name!r} is not configured",
            hint=f"configured endpoints: {', '.join(configured) or 'none'}",
        )
    from butido_py.db.endpoints import set_endpoint_disabled  # noqa: PLC0415 - SQLAlchemy is slow

    record = set_endpoint_disabled(app.database(), name, disabled=disabled)
    if as_json:
        print_json({"endpoint": record.name, "disabled": record.disabled,
                    "quarantined_until": record.quarantined_until,
                    "consecutive_failures": record.consecutive_failures})  # fmt: skip
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
