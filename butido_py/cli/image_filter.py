"""`-I IMAGE` of the listings (`db jobs`, `db submits`, `endpoint containers list`): a configured
short name (`-I tiny`) means its full name, as for `build -I`; any other name is kept (the
database and the endpoints also hold images that are no longer configured)."""

from __future__ import annotations

import click

from butido_py.cli.context import AppContext


def image_filter(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Click callback of an image filter option."""
    if value is None:
        return None
    from butido_py.config.image_names import filter_image_name  # noqa: PLC0415 - start-up time

    app = ctx.find_root().ensure_object(AppContext)
    return filter_image_name(app.config, value)
