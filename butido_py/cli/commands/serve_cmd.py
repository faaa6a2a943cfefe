"""`butido serve`: the read-only web view of the database (docs/web.md)."""

from __future__ import annotations

import click

from butido_py.cli.context import AppContext
from butido_py.cli.warnings import echo_warning

#: Hosts that only this machine reaches: no warning.
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.pass_obj
def serve(app: AppContext, host: str, port: int) -> None:
    """Serve a read-only web view of the database: submits, DAGs, jobs, live logs, packages.

    It listens on loopback by default. The view has no login: to share it, put it behind a
    reverse proxy that authenticates (docs/web.md)."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from butido_py.web.app import create_app  # noqa: PLC0415

    db = app.database()
    if host not in LOOPBACK:
        echo_warning(
            f"serving on {host}: the web view has no login, anyone who reaches this address "
            "reads every submit, script and log (put it behind a reverse proxy, docs/web.md)"
        )
    click.echo(f"butido web view of {db.display_url} on http://{_url_host(host)}:{port}/", err=True)
    uvicorn.run(create_app(db), host=host, port=port, log_level="warning")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


COMMANDS: tuple[click.Command, ...] = (serve,)
