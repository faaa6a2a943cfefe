"""`butido generate-completions [bash|zsh|fish]`: shell completion scripts (no config needed)."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_BUTIDO_COMPLETE"


@click.command("generate-completions")
@click.argument("shell", type=click.Choice(SHELLS), default="bash")
@click.pass_context
def generate_completions(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL (default bash).

    \b
    bash:  butido generate-completions bash > /etc/bash_completion.d/butido
    zsh:   butido generate-completions zsh > "${fpath[1]}/_butido"
    fish:  butido generate-completions fish > ~/.config/fish/completions/butido.fish
    """
    completion_class = get_completion_class(shell)
    if completion_class is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"no completion support for {shell}")
    root = ctx.find_root().command
    click.echo(f"Generating shell completions for {shell}...", err=True)
    click.echo(completion_class(root, {}, "butido", COMPLETE_VAR).source())


COMMANDS: tuple[click.Command, ...] = (generate_completions,)
