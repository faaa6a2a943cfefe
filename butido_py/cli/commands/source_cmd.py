"""`butido source …`: the source cache (verification, download, listing)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

import click

from butido_py.cli.context import AppContext
from butido_py.cli.options import choose_format, output_options, repository_options
from butido_py.cli.render import OutputFormat, render_rows
from butido_py.cli.warnings import color_allowed
from butido_py.errors import RepositoryError, SourceError
from butido_py.package.model import Package
from butido_py.sources.cache import CachedSource, SourceCache, VerifyResult, verify_sources
from butido_py.sources.download import (
    DownloadOptions,
    DownloadOutcome,
    DownloadResult,
    download_sources,
)

_MB = 1_000_000


@click.group("source")
def source_group() -> None:
    """Verify, download and list the sources of packages.

    Sources are cached as <source_cache>/<name>-<version>/<source>.source (the `source_cache`
    key of config.toml) and appear in a job's container as /inputs/<source>.source.
    """


def _app(ctx: click.Context) -> AppContext:
    return ctx.ensure_object(AppContext)


def _select(
    app: AppContext,
    *,
    commit: str,
    allow_dirty: bool,
    name: str | None,
    constraint: str | None,
    matching: str | None = None,
) -> list[CachedSource]:
    """The sources of the packages picked by NAME [CONSTRAINT] or --matching (all: neither)."""
    repository = app.repository(commit, allow_dirty)
    packages: Sequence[Package]
    if matching is not None:
        pattern = _compile(matching)
        packages = [p for p in repository.packages if pattern.search(p.name)]
        if not packages:
            raise RepositoryError(
                f"no package name matches the regular expression {matching!r}",
                hint="`butido find-pkg` lists the packages",
            )
    elif name is not None:
        packages = repository.require(name, constraint)
    else:
        packages = repository.packages
    return SourceCache(app.config.source_cache).entries(packages)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise click.BadParameter(
            f"invalid regular expression: {exc}", param_hint="--matching"
        ) from exc


def _require_selection(name: str | None, matching: str | None) -> None:
    if name is None and matching is None:
        raise click.UsageError("give a package PKG [CONSTRAINT] or --matching REGEX")
    if name is not None and matching is not None:
        raise click.UsageError("PKG and --matching cannot be used together")


_name_argument = click.argument("name", metavar="[PKG]", required=False)
_constraint_argument = click.argument("constraint", metavar="[CONSTRAINT]", required=False)
_matching_option = click.option(
    "--matching",
    metavar="REGEX",
    help="All packages whose name matches this Python regular expression (searched, not "
    "anchored: use ^...$ for whole names).",
)


@source_group.command("verify")
@_name_argument
@_constraint_argument
@_matching_option
@repository_options
@output_options
@click.pass_context
def verify(
    ctx: click.Context,
    name: str | None,
    constraint: str | None,
    matching: str | None,
    commit: str,
    allow_dirty: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """Check that the cached sources of PKG (or of --matching) exist and have their hashes.

    CONSTRAINT selects versions: `=V` exactly, `V` semver-like (`1.3` matches 1.3 and 1.3.1).
    Every file is hashed (concurrently); each problem is printed, then the command fails with
    exit code 8. With --json or --csv every source is listed with its status.
    """
    _require_selection(name, matching)
    app = _app(ctx)
    entries = _select(
        app,
        commit=commit,
        allow_dirty=allow_dirty,
        name=name,
        constraint=constraint,
        matching=matching,
    )
    results = verify_sources(entries)
    if as_json or as_csv:
        _render_verify(results, as_json=as_json, as_csv=as_csv, header=not no_header)
    else:
        for result in results:
            if not result.ok:
                click.secho(
                    f"error: {result.entry.label}: {result.message}",
                    fg="red",
                    err=True,
                    color=color_allowed(),
                )
        good = sum(r.ok for r in results)
        click.echo(f"{good} of {len(results)} sources verified")
    _fail_on_verify_problems(results)


def _render_verify(
    results: Sequence[VerifyResult], *, as_json: bool, as_csv: bool, header: bool
) -> None:
    rows = [
        (r.entry.package.name, r.entry.package.version, r.entry.source.name, r.status,
         str(r.entry.path), r.message)
        for r in results
    ]  # fmt: skip
    headers = ["Package", "Version", "Source", "Status", "Path", "Message"]
    render_rows(headers, rows, choose_format(as_json=as_json, as_csv=as_csv), header=header)


def _fail_on_verify_problems(results: Sequence[VerifyResult]) -> None:
    bad = [r for r in results if not r.ok]
    if not bad:
        return
    first = bad[0].entry
    raise SourceError(
        f"{len(bad)} of {len(results)} sources failed verification "
        f"(first: {first.label}, {first.path})",
        hint=f"fetch them again with `butido source download --force {first.package.name} "
        f"={first.package.version}`, or correct the hash in {first.package.pkg_toml or 'pkg.toml'}",
    )


@source_group.command("list-missing")
@repository_options
@output_options
@click.pass_context
def list_missing(
    ctx: click.Context,
    commit: str,
    allow_dirty: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """List every source of every package that is not in the source cache."""
    app = _app(ctx)
    entries = _select(app, commit=commit, allow_dirty=allow_dirty, name=None, constraint=None)
    rows = [
        (e.package.name, e.package.version, e.source.name, str(e.path))
        for e in entries
        if not e.path.exists()
    ]
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    if fmt is OutputFormat.PLAIN:  # butido's layout when piped
        _echo_lines(f"{name} {version} -> {path}" for name, version, _source, path in rows)
        return
    render_rows(["Package", "Version", "Source", "Path"], rows, fmt, header=not no_header)


@source_group.command("url")
@_name_argument
@_constraint_argument
@repository_options
@output_options
@click.pass_context
def url(
    ctx: click.Context,
    name: str | None,
    constraint: str | None,
    commit: str,
    allow_dirty: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """Print the URL of each source of PKG (all packages without PKG)."""
    app = _app(ctx)
    entries = _select(app, commit=commit, allow_dirty=allow_dirty, name=name, constraint=constraint)
    rows = [(e.package.name, e.package.version, e.source.name, e.source.url) for e in entries]
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    if fmt is OutputFormat.PLAIN:  # butido's layout when piped
        _echo_lines(f"{n} {v} -> {source} = {address}" for n, v, source, address in rows)
        return
    render_rows(["Package", "Version", "Source", "URL"], rows, fmt, header=not no_header)


@source_group.command("of")
@_name_argument
@_constraint_argument
@repository_options
@output_options
@click.pass_context
def of(
    ctx: click.Context,
    name: str | None,
    constraint: str | None,
    commit: str,
    allow_dirty: bool,
    as_json: bool,
    as_csv: bool,
    no_header: bool,
) -> None:
    """Print the source cache path of each source of PKG (all packages without PKG)."""
    app = _app(ctx)
    entries = _select(app, commit=commit, allow_dirty=allow_dirty, name=name, constraint=constraint)
    rows = [
        (e.package.name, e.package.version, e.source.name, str(e.path), e.path.exists())
        for e in entries
    ]
    fmt = choose_format(as_json=as_json, as_csv=as_csv)
    if fmt is OutputFormat.PLAIN:  # butido's layout when piped: the package, then a tab per path
        _echo_lines(_of_lines(entries))
        return
    headers = ["Package", "Version", "Source", "Path", "Present"]
    render_rows(headers, rows, fmt, header=not no_header)


def _of_lines(entries: Sequence[CachedSource]) -> Iterator[str]:
    current: tuple[str, str] | None = None
    for entry in entries:
        package = (entry.package.name, entry.package.version)
        if package != current:
            current = package
            yield f"{package[0]} {package[1]}"
        yield f"\t{entry.path}"


def _echo_lines(lines: Iterable[str]) -> None:
    for line in lines:
        click.echo(line)


class _Bar:
    """One tqdm bar for all downloads: MB so far of MB announced, a/b downloads finished."""

    def __init__(self, count: int) -> None:
        from tqdm import tqdm  # noqa: PLC0415 - tqdm only when downloading

        self._count = count
        self._done = 0
        self._bar = tqdm(total=0, unit="B", unit_scale=True, desc="Downloading", leave=True)
        self._bar.set_postfix_str(f"0/{count} downloads finished")

    def expect(self, nbytes: int) -> None:
        self._bar.total = (self._bar.total or 0) + nbytes
        self._bar.refresh()

    def advance(self, nbytes: int) -> None:
        self._bar.update(nbytes)

    def finished(self, result: DownloadResult) -> None:  # noqa: ARG002 - DownloadProgress
        self._done += 1
        self._bar.set_postfix_str(f"{self._done}/{self._count} downloads finished")

    def close(self) -> None:
        self._bar.close()


@source_group.command("download")
@_name_argument
@_constraint_argument
@_matching_option
@click.option(
    "--force",
    is_flag=True,
    help="Download sources that are already in the cache again; the cached file is replaced "
    "only when the new download is complete and its hash matches.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECS",
    help="Give up a download after SECS seconds (connecting and transferring). Default: no limit.",
)
@repository_options
@click.pass_context
def download(
    ctx: click.Context,
    name: str | None,
    constraint: str | None,
    matching: str | None,
    force: bool,
    timeout: float | None,
    commit: str,
    allow_dirty: bool,
) -> None:
    """Download the sources of PKG (or of --matching) into the source cache.

    Up to 8 downloads run at once. A download is written to a temporary file next to its place in
    the cache and renamed only when it is complete and its hash matches pkg.toml, so a failed or
    interrupted download leaves nothing behind. Answers other than `200 OK` and HTML pages are
    errors.

    A source that is already in the cache is skipped with a note (not a failure) unless --force;
    its hash is checked. Sources marked `download_manually = true` are never fetched: they are
    reported, and the command fails when one of them is missing from the cache.
    """
    _require_selection(name, matching)
    app = _app(ctx)
    entries = _select(
        app,
        commit=commit,
        allow_dirty=allow_dirty,
        name=name,
        constraint=constraint,
        matching=matching,
    )
    options = DownloadOptions(force=force, timeout=timeout)
    bar = _Bar(len(entries)) if app.show_progress else None
    try:
        results = download_sources(entries, options, bar)
    finally:
        if bar is not None:
            bar.close()
    problems = _report_downloads(results)
    if problems:
        first = problems[0]
        raise SourceError(
            f"{len(problems)} of {len(results)} sources could not be provided "
            f"(first: {first.label}, {first.path})",
            hint="check the URL with `butido source url`, the server and the hash in "
            f"{first.package.pkg_toml or 'pkg.toml'}; put manual downloads at the path shown",
        )


def _size(nbytes: int) -> str:
    return f"{nbytes} bytes" if nbytes < _MB else f"{nbytes / _MB:.2f} MB"


def _report_downloads(results: Sequence[DownloadResult]) -> list[CachedSource]:
    """Print one line per source; the sources that are not usable afterwards."""
    kept = [
        r.entry for r in results if r.outcome in {DownloadOutcome.EXISTS, DownloadOutcome.MANUAL}
    ]
    checks = {v.entry.path: v for v in verify_sources([e for e in kept if e.path.exists()])}
    problems: list[CachedSource] = []
    for result in results:
        entry = result.entry
        if result.outcome is DownloadOutcome.DOWNLOADED:
            click.echo(f"downloaded {entry.label}: {_size(result.size)} -> {entry.path}")
            continue
        if result.outcome is DownloadOutcome.FAILED:
            click.secho(
                f"error: {entry.label}: {result.message}", fg="red", err=True, color=color_allowed()
            )
            problems.append(entry)
            continue
        click.echo(f"note: {entry.label}: {result.message}")
        check = checks.get(entry.path)
        if check is None:  # a manual download that is missing
            click.secho(
                f"error: {entry.label}: download {entry.source.url} by hand to {entry.path}",
                fg="red",
                err=True,
                color=color_allowed(),
            )
            problems.append(entry)
        elif not check.ok:
            click.secho(
                f"error: {entry.label}: {check.message} (--force downloads it again)",
                fg="red",
                err=True,
                color=color_allowed(),
            )
            problems.append(entry)
    ok = len(results) - len(problems)
    click.echo(f"{ok} of {len(results)} sources are in the cache and verified")
    return problems


COMMANDS: tuple[click.Command, ...] = (source_group,)
