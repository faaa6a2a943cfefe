"""Validation: merged configuration data → `Config` (pure: no file system or network access).

All problems are collected and reported together, one line each, as `<origin>: <key path>: <what>`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from butido_py.config.compat import check_compatibility
from butido_py.config.layers import KeyPath, MergedConfig
from butido_py.config.model import (
    Config,
    ContainersConfig,
    DatabaseConfig,
    DockerConfig,
    EndpointConfig,
    EndpointType,
    ImageConfig,
    SourceDatePolicy,
    TlsConfig,
)
from butido_py.config.settings import (
    CONTAINERS,
    DOCKER,
    ENDPOINT,
    IMAGE,
    SCRIPT_THEMES,
    TOP_LEVEL,
    Setting,
    find_setting,
)
from butido_py.errors import ConfigError
from butido_py.timespec import TimeSpecError, parse_duration

DEFAULT_DOCKER_SOCKET = "unix:///var/run/docker.sock"


@dataclass(frozen=True, slots=True)
class Surroundings:
    """Facts from outside the configuration that validation needs (gathered by the loader)."""

    base_dir: Path  # relative paths are resolved against it (the repository root)
    data_home: Path  # $XDG_DATA_HOME/butido
    docker_host: str | None  # $DOCKER_HOST, for the implicit `local` endpoint


@dataclass(slots=True)
class _Problems:
    merged: MergedConfig
    lines: list[str] = field(default_factory=list)

    def add(self, path: KeyPath, problem: str) -> None:
        self.lines.append(f"{self.merged.origin(path)}: {'.'.join(path)}: {problem}")


class _TableReader:
    """Typed access to one table; reports unknown keys with a suggestion when it is closed."""

    def __init__(
        self,
        table: Mapping[str, object],
        path: KeyPath,
        settings: tuple[Setting, ...],
        problems: _Problems,
    ) -> None:
        self.table = table
        self.path = path
        self.settings = settings
        self.problems = problems
        # Keys suggested for a misspelt key are not reported as missing a second time.
        self.suggested: set[str] = set()
        self._check_unknown_keys()

    def _check_unknown_keys(self) -> None:
        known = [s.key for s in self.settings]
        for key in self.table:
            if key in known:
                continue
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            self.suggested.update(close)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
            self.problems.add((*self.path, key), f"unknown key{hint}")

    def _raw(self, key: str) -> tuple[Setting, object]:
        setting = find_setting(self.settings, key)
        assert setting is not None, key  # noqa: S101 - programming error, not user input
        if key in self.table:
            return setting, self.table[key]
        if setting.required and key not in self.suggested:
            self.problems.add((*self.path, key), f"missing required key ({setting.help})")
        return setting, None

    def raw(self, key: str) -> object:
        """The value as written (None when absent), for settings of more than one kind."""
        return self._raw(key)[1]

    def _wrong(self, key: str, expected: str, value: object) -> None:
        self.problems.add((*self.path, key), f"expected {expected}, got {_describe(value)}")

    def string(self, key: str) -> str | None:
        setting, value = self._raw(key)
        if value is None:
            return setting.default if isinstance(setting.default, str) else None
        if isinstance(value, str):
            return value
        self._wrong(key, "a string", value)
        return None

    def integer(self, key: str, *, minimum: int = 0, maximum: int | None = None) -> int | None:
        setting, value = self._raw(key)
        if value is None:
            return setting.default if isinstance(setting.default, int) else None
        if not isinstance(value, int) or isinstance(value, bool):
            self._wrong(key, "an integer", value)
            return None
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            self.problems.add((*self.path, key), f"must be at least {minimum}{upper}, got {value}")
            return None
        return value

    def boolean(self, key: str) -> bool:
        setting, value = self._raw(key)
        if value is None:
            return bool(setting.default)
        if isinstance(value, bool):
            return value
        self._wrong(key, "true or false", value)
        return bool(setting.default)

    def string_list(self, key: str, *, non_empty: bool = False) -> tuple[str, ...] | None:
        setting, value = self._raw(key)
        if value is None:
            default = setting.default
            return tuple(str(v) for v in default) if isinstance(default, tuple) else None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._wrong(key, "a list of strings", value)
            return None
        if non_empty and not value:
            self.problems.add((*self.path, key), "must not be empty")
        return tuple(value)

    def path_value(self, key: str, base_dir: Path) -> Path | None:
        text = self.string(key)
        if text is None:
            return None
        if not text:
            self.problems.add((*self.path, key), "must not be empty")
            return None
        path = Path(text).expanduser()
        return path if path.is_absolute() else base_dir / path

    def table_value(self, key: str) -> Mapping[str, object] | None:
        _, value = self._raw(key)
        if value is None:
            return None
        if isinstance(value, Mapping):
            return value
        self._wrong(key, "a table", value)
        return None

    def list_of_tables(self, key: str) -> list[Mapping[str, object]]:
        _, value = self._raw(key)
        if value is None:
            return []
        if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
            return list(value)
        self._wrong(key, "a list of tables", value)
        return []


def _describe(value: object) -> str:
    kind = {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{kind} {text if len(text) <= 40 else text[:37] + '...'}"


def validate(merged: MergedConfig, surroundings: Surroundings) -> Config:
    """Build the `Config`, or raise one `ConfigError` listing every problem."""
    compatibility = check_compatibility(
        merged.data.get("compatibility"), merged.origin(("compatibility",))
    )
    problems = _Problems(merged)
    top = _TableReader(merged.data, (), TOP_LEVEL, problems)
    base = surroundings.base_dir
    home = surroundings.data_home
    theme = top.string("script_highlight_theme")
    if theme is not None and theme not in SCRIPT_THEMES:
        problems.add(
            ("script_highlight_theme",),
            f"theme not known: {theme!r}; known themes: {', '.join(SCRIPT_THEMES)}",
        )
    stores = top.string_list("release_stores", non_empty=True) or ()
    _check_store_names(stores, problems)
    phases = top.string_list("available_phases", non_empty=True) or ()
    _check_unique(phases, ("available_phases",), "phase", problems)
    config = Config(
        compatibility=compatibility,
        log_dir=top.path_value("log_dir", base) or home / "logs",
        strict_script_interpolation=top.boolean("strict_script_interpolation"),
        progress_format=top.string("progress_format") or "",
        package_print_format=top.string("package_print_format") or "",
        build_error_lines=_int_or(top.integer("build_error_lines"), 10),
        script_highlight_theme=theme,
        script_linter=top.path_value("script_linter", base),
        shebang=top.string("shebang") or "#!/bin/bash",
        releases_root=top.path_value("releases_root", base) or home / "releases",
        release_stores=stores,
        staging=top.path_value("staging", base) or home / "staging",
        source_cache=top.path_value("source_cache", base) or home / "sources",
        database=_read_database(top),
        available_phases=phases,
        docker=_read_docker(top.table_value("docker"), problems, surroundings),
        containers=_read_containers(top.table_value("containers"), problems),
        heartbeat_timeout=_int_or(top.integer("heartbeat_timeout", minimum=60), 600),
        max_log_size=top.integer("max_log_size") or None,
        max_output_size=top.integer("max_output_size") or None,
        origins=tuple(sorted((".".join(k), v) for k, v in merged.origins.items())),
    )
    if problems.lines:
        # Each line names its origin, key and problem (with a suggestion): no extra hint needed.
        raise ConfigError("\n".join(problems.lines))
    return config


def _int_or(value: int | None, default: int) -> int:
    return default if value is None else value


def _check_unique(values: tuple[str, ...], path: KeyPath, what: str, problems: _Problems) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            problems.add(path, f"{what} {value!r} is listed twice")
        seen.add(value)


def _check_store_names(stores: tuple[str, ...], problems: _Problems) -> None:
    _check_unique(stores, ("release_stores",), "release store", problems)
    for store in stores:
        if not store or "/" in store or store in (".", ".."):
            problems.add(("release_stores",), f"{store!r} is not a directory name")


def _read_database(top: _TableReader) -> DatabaseConfig:
    return DatabaseConfig(
        url=top.string("database_url"),
        host=top.string("database_host"),
        port=_int_or(top.integer("database_port", minimum=1, maximum=65535), 5432),
        user=top.string("database_user"),
        password=top.string("database_password"),
        name=top.string("database_name"),
        connection_timeout=_int_or(top.integer("database_connection_timeout"), 30),
        default_query_limit=_int_or(top.integer("database_default_query_limit"), 10),
        retry_seconds=_int_or(top.integer("database_retry_seconds", minimum=0), 120),
    )


def _read_docker(
    table: Mapping[str, object] | None, problems: _Problems, surroundings: Surroundings
) -> DockerConfig:
    reader = _TableReader(table or {}, ("docker",), DOCKER, problems)
    images = tuple(
        image
        for index, raw in enumerate(reader.list_of_tables("images"))
        if (image := _read_image(raw, ("docker", "images", str(index)), problems)) is not None
    )
    _check_image_names(images, problems)
    endpoints_table = reader.table_value("endpoints") or {}
    endpoints = []
    for name, raw in endpoints_table.items():
        path = ("docker", "endpoints", name)
        if not isinstance(raw, Mapping):
            problems.add(path, f"expected a table, got {_describe(raw)}")
            continue
        endpoint = _read_endpoint(name, raw, path, problems, surroundings.base_dir)
        if endpoint is not None:
            endpoints.append(endpoint)
    implicit = not endpoints_table
    if implicit:
        endpoints.append(_implicit_endpoint(surroundings.docker_host))
    return DockerConfig(
        docker_versions=reader.string_list("docker_versions"),
        docker_api_versions=reader.string_list("docker_api_versions"),
        images=images,
        endpoints=tuple(endpoints),
        implicit_endpoint=implicit,
        job_attempts=_int_or(reader.integer("job_attempts", minimum=1), 3),
        quarantine_after=_int_or(reader.integer("quarantine_after", minimum=1), 2),
        quarantine_seconds=_int_or(reader.integer("quarantine_seconds"), 300),
        job_timeout=_duration(reader, "job_timeout", problems),
    )


def _duration(reader: _TableReader, key: str, problems: _Problems) -> float | None:
    """A positive humantime duration (`2h`, `90m`), in seconds; None when not set."""
    text = reader.string(key)
    if text is None:
        return None
    try:
        seconds = parse_duration(text).total_seconds()
    except TimeSpecError as error:
        problems.add((*reader.path, key), str(error))
        return None
    if seconds <= 0:
        problems.add((*reader.path, key), f"must be longer than 0 s, got {text!r}")
        return None
    return seconds


def _implicit_endpoint(docker_host: str | None) -> EndpointConfig:
    uri = docker_host or DEFAULT_DOCKER_SOCKET
    kind = EndpointType.SOCKET if uri.startswith("unix://") else EndpointType.HTTP
    return EndpointConfig(name="local", uri=uri, endpoint_type=kind, maxjobs=2)


def _read_image(
    raw: Mapping[str, object], path: KeyPath, problems: _Problems
) -> ImageConfig | None:
    reader = _TableReader(raw, path, IMAGE, problems)
    name, short_name = reader.string("name"), reader.string("short_name")
    if not name or not short_name:
        return None
    return ImageConfig(name=name, short_name=short_name)


def _check_image_names(images: tuple[ImageConfig, ...], problems: _Problems) -> None:
    seen: dict[str, str] = {}
    for image in images:
        for label in {image.name, image.short_name}:
            if label in seen and seen[label] != image.name:
                problems.add(
                    ("docker", "images"),
                    f"image name {label!r} is used by both {seen[label]!r} and {image.name!r}",
                )
            elif label in seen:
                problems.add(("docker", "images"), f"image {label!r} is listed twice")
            seen[label] = image.name


def _read_endpoint(
    name: str,
    raw: Mapping[str, object],
    path: KeyPath,
    problems: _Problems,
    base_dir: Path,
) -> EndpointConfig | None:
    reader = _TableReader(raw, path, ENDPOINT, problems)
    uri = reader.string("uri")
    kind_text = reader.string("endpoint_type")
    maxjobs = reader.integer("maxjobs", minimum=1)
    network_mode = reader.string("network_mode") or "none"
    timeout = _int_or(reader.integer("timeout", minimum=1), 10)
    tls = TlsConfig(
        verify=reader.boolean("tls_verify"),
        ca_cert=reader.path_value("tls_ca_cert", base_dir),
        client_cert=reader.path_value("tls_client_cert", base_dir),
        client_key=reader.path_value("tls_client_key", base_dir),
    )
    kind = _endpoint_type(kind_text, (*path, "endpoint_type"), problems)
    if uri is None or kind is None or maxjobs is None:
        return None
    if not _uri_fits(uri, kind):
        problems.add(
            (*path, "uri"),
            f"{uri!r} does not fit endpoint_type {kind.value!r} (socket: unix:///path or /path; "
            "http: tcp://host:port, http://host:port or https://host:port)",
        )
    uses_tls = tls.verify or any((tls.ca_cert, tls.client_cert, tls.client_key))
    if uses_tls and kind is EndpointType.SOCKET:
        problems.add(path, "TLS options only apply to endpoint_type 'http'")
    if (tls.client_cert is None) != (tls.client_key is None):
        problems.add(path, "tls_client_cert and tls_client_key must be given together")
    return EndpointConfig(
        name=name,
        uri=uri,
        endpoint_type=kind,
        maxjobs=maxjobs,
        network_mode=network_mode,
        timeout=timeout,
        tls=tls if uses_tls else None,
        network_mode_set="network_mode" in raw,
    )


def _endpoint_type(text: str | None, path: KeyPath, problems: _Problems) -> EndpointType | None:
    if text is None:
        return None
    try:
        return EndpointType(text)
    except ValueError:
        problems.add(path, f"must be 'socket' or 'http', got {text!r}")
        return None


def _uri_fits(uri: str, kind: EndpointType) -> bool:
    if kind is EndpointType.SOCKET:
        return uri.startswith(("unix://", "/"))
    return uri.startswith(("tcp://", "http://", "https://"))


def _read_containers(table: Mapping[str, object] | None, problems: _Problems) -> ContainersConfig:
    reader = _TableReader(table or {}, ("containers",), CONTAINERS, problems)
    return ContainersConfig(
        check_env_names=reader.boolean("check_env_names"),
        allowed_env=reader.string_list("allowed_env") or (),
        git_author=reader.string("git_author"),
        git_commit_hash=reader.string("git_commit_hash"),
        source_date_epoch=_source_date_epoch(reader),
    )


def _source_date_epoch(reader: _TableReader) -> SourceDatePolicy | int:
    value = reader.raw("source_date_epoch")
    if value is None:
        return SourceDatePolicy.PER_PACKAGE
    if isinstance(value, str) and value in tuple(SourceDatePolicy):
        return SourceDatePolicy(value)
    if isinstance(value, str) and value.isdigit():  # "1700000000": a number written as text
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    reader.problems.add(
        (*reader.path, "source_date_epoch"),
        f"expected 'per-package', 'commit' or seconds since 1970 (an integer), "
        f"got {_describe(value)}",
    )
    return SourceDatePolicy.PER_PACKAGE
