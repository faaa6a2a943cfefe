"""`butido endpoint [NAME] …`: look after the configured Docker endpoints."""

from __future__ import annotations

import time

import click

from butido_py.cli.context import AppContext
from butido_py.cli.render import print_json
from butido_py.config.model import EndpointConfig
from butido_py.endpoint.docker import ping as ping_endpoint
from butido_py.errors import ButidoError, EndpointError


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
    app = ctx.find_object(AppContext)
    assert app is not None  # noqa: S101 - main() always provides it
    results: dict[str, list[float]] = {}
    for endpoint in selected_endpoints(app, ctx):
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
