"""Shell completion of values: package names and versions (from the work tree's pkg.toml files),
image short names, endpoints and release stores (from the configuration), recent submit and job
UUIDs (from the database).

`attach` gives a loaded command's parameters their completer by name (LazyGroup calls it only
while completing), so no command module repeats it. Every completer is quiet: a broken
configuration or an unreachable database completes nothing rather than printing an error into
the shell. Packages are read with tomllib from the files, not through git (a TAB must take well
under 150 ms; loading the repository takes longer).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

#: Set by the shell completion scripts (completions_cmd.COMPLETE_VAR).
COMPLETE_VAR = "_BUTIDO_COMPLETE"

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def completing() -> bool:
    return COMPLETE_VAR in os.environ


def _repository_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def packages_in_work_tree(start: Path) -> dict[str, set[str]]:
    """name -> versions of every pkg.toml under the repository around `start` (a version may
    come from a parent directory's pkg.toml, as layering does)."""
    root = _repository_root(start)
    if root is None:
        return {}
    found: dict[str, set[str]] = {}
    for keys in _layered(root, {}):
        name, version = keys.get("name"), keys.get("version")
        if isinstance(name, str) and isinstance(version, str):
            found.setdefault(name, set()).add(version)
    return found


def _layered(directory: Path, inherited: dict[str, Any]) -> Iterator[dict[str, Any]]:
    keys = dict(inherited)
    try:
        with (directory / "pkg.toml").open("rb") as file:
            keys.update(tomllib.load(file))
        yield keys
    except (OSError, tomllib.TOMLDecodeError):
        pass
    for child in sorted(directory.iterdir()):
        if child.is_dir() and not child.name.startswith("."):
            yield from _layered(child, keys)


def _items(values: set[str] | list[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(v) for v in sorted(values) if v.startswith(incomplete)]


def complete_package(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    return _items(set(packages_in_work_tree(Path.cwd())), incomplete)


def complete_version(
    ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    name = ctx.params.get("name") or ctx.params.get("package")
    versions = packages_in_work_tree(Path.cwd()).get(str(name), set()) if name else set()
    return _items(versions, incomplete.lstrip("="))


def _from_config(pick: Callable[[Any], list[str]]) -> Completer:
    def complete(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[Any]:
        from butido_py.cli.context import AppContext  # noqa: PLC0415 - a cycle otherwise
        from butido_py.errors import ButidoError  # noqa: PLC0415

        try:
            config = ctx.ensure_object(AppContext).config
        except ButidoError:
            return []
        return _items(pick(config), incomplete)

    return complete


complete_image = _from_config(lambda config: [i.short_name or i.name for i in config.docker.images])
complete_endpoint = _from_config(lambda config: [e.name for e in config.docker.endpoints])
complete_store = _from_config(lambda config: list(config.release_stores))


def recent_uuids(ctx: click.Context, kind: str, incomplete: str) -> list[CompletionItem]:
    """The newest submits (jobs) whose UUID starts with `incomplete`, with what they built."""
    from butido_py.cli.context import AppContext  # noqa: PLC0415 - a cycle otherwise
    from butido_py.errors import ButidoError  # noqa: PLC0415

    app = ctx.ensure_object(AppContext)
    app.recover = False  # completing must write nothing
    try:
        database = app.database()
        if kind == "group":
            from butido_py.db.groups import GroupFilter, list_groups  # noqa: PLC0415

            rows = [
                (str(g.uuid), f"{g.package_name} {g.package_version} {g.state}")
                for g in list_groups(database, GroupFilter(limit=50))
            ]
        elif kind in ("submit", "submit or group"):
            from butido_py.db.submits import SubmitFilter, list_submits  # noqa: PLC0415

            rows = [
                (str(s.uuid), f"{s.package_name} {s.package_version} {s.state}")
                for s in list_submits(database, SubmitFilter(limit=50))
            ]
        else:
            from butido_py.db.jobs import JobFilter, list_jobs  # noqa: PLC0415

            rows = [
                (str(j.uuid), f"{j.package_name} {j.package_version} {j.state}")
                for j in list_jobs(database, JobFilter(limit=50))
            ]
    except ButidoError:
        return []
    rows.reverse()  # newest first
    return [CompletionItem(u, help=h) for u, h in rows if u.startswith(incomplete.lower())]


#: Parameter name -> completer; arguments and options alike.
_BY_NAME: dict[str, Completer] = {
    "package": complete_package,
    "version": complete_version,
    "constraint": complete_version,
    "image": complete_image,
    "images": complete_image,
    "endpoint": complete_endpoint,
    "endpoints": complete_endpoint,
    "store": complete_store,
    "stores": complete_store,
}


def attach(command: click.Command, path: str) -> None:
    """Give `command`'s parameters their completer (`path`: its command path, e.g. `butido
    endpoint ping`: under `endpoint` NAME is an endpoint, elsewhere a package)."""
    under_endpoint = path.split()[1:2] == ["endpoint"]
    for param in command.params:
        if getattr(param, "_custom_shell_complete", None) is not None:
            continue
        name = param.name or ""
        completer: Completer | None = _BY_NAME.get(name)
        if name == "name":
            completer = complete_endpoint if under_endpoint else complete_package
        if completer is not None:
            param._custom_shell_complete = completer  # click's completion hook
