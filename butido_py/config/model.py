"""Configuration model: frozen dataclasses, built only by `butido_py.config.validate`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class EndpointType(StrEnum):
    SOCKET = "socket"
    HTTP = "http"


@dataclass(frozen=True, slots=True)
class ImageConfig:
    name: str
    short_name: str


@dataclass(frozen=True, slots=True)
class TlsConfig:
    verify: bool
    ca_cert: Path | None
    client_cert: Path | None
    client_key: Path | None


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    name: str
    uri: str
    endpoint_type: EndpointType
    maxjobs: int
    network_mode: str = "none"
    timeout: int = 10
    tls: TlsConfig | None = None
    #: False: `network_mode` is our default `none`, where butido used Docker's default (bridge).
    network_mode_set: bool = False

    @property
    def docker_url(self) -> str:
        """The URL the docker SDK understands (`unix://…` or `tcp://…`)."""
        if self.endpoint_type is EndpointType.SOCKET:
            return self.uri if self.uri.startswith("unix://") else f"unix://{self.uri}"
        for scheme in ("http://", "https://"):
            if self.uri.startswith(scheme):
                return "tcp://" + self.uri.removeprefix(scheme)
        return self.uri


@dataclass(frozen=True, slots=True)
class DockerConfig:
    docker_versions: tuple[str, ...] | None
    docker_api_versions: tuple[str, ...] | None
    images: tuple[ImageConfig, ...]
    endpoints: tuple[EndpointConfig, ...]
    #: True when no endpoint was configured and `local` was derived from DOCKER_HOST.
    implicit_endpoint: bool = False
    #: Failover: tries of a job whose endpoint failed, each on another endpoint when possible.
    job_attempts: int = 3
    #: Consecutive infrastructure failures after which an endpoint is quarantined ...
    quarantine_after: int = 2
    #: ... for this many seconds, doubled for each further failure.
    quarantine_seconds: int = 300
    #: Seconds a job's container may run before it is stopped and the job fails with `timeout`
    #: (`build --timeout` and a package's meta key `job_timeout` override it); None: no limit.
    job_timeout: float | None = None

    def endpoint(self, name: str) -> EndpointConfig | None:
        return next((e for e in self.endpoints if e.name == name), None)


class SourceDatePolicy(StrEnum):
    """Where a job's SOURCE_DATE_EPOCH comes from (`containers.source_date_epoch`)."""

    #: When the files the package is made from last changed: other commits change no job key.
    PER_PACKAGE = "per-package"
    #: The pinned commit's time: every commit changes every job key (butido_py before 0.x).
    COMMIT = "commit"


@dataclass(frozen=True, slots=True)
class ContainersConfig:
    check_env_names: bool
    allowed_env: tuple[str, ...]
    git_author: str | None
    git_commit_hash: str | None
    #: What jobs receive as SOURCE_DATE_EPOCH: a policy, or a fixed number of seconds.
    source_date_epoch: SourceDatePolicy | int = SourceDatePolicy.PER_PACKAGE


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str | None
    host: str | None
    port: int
    user: str | None
    password: str | None
    name: str | None
    connection_timeout: int
    default_query_limit: int
    #: Seconds a build retries a lost database connection before it gives up (db/retry.py).
    retry_seconds: int = 120


@dataclass(frozen=True, slots=True)
class Config:
    compatibility: int
    log_dir: Path
    strict_script_interpolation: bool
    progress_format: str
    package_print_format: str
    build_error_lines: int
    script_highlight_theme: str | None
    script_linter: Path | None
    shebang: str
    releases_root: Path
    release_stores: tuple[str, ...]
    staging: Path
    source_cache: Path
    database: DatabaseConfig
    available_phases: tuple[str, ...]
    docker: DockerConfig
    containers: ContainersConfig
    #: Crash recovery: a running submit of another host whose heartbeat is older than this many
    #: seconds is recorded lost (same host: as soon as its process is gone).
    heartbeat_timeout: int = 600
    #: Bytes of a job's log stored at most (the rest is cut with a marker); None: no limit.
    max_log_size: int | None = 1 << 30
    #: Bytes the outputs of one job may have together, beyond which it fails (`outputs`);
    #: None (`max_output_size = 0`, the default): only the staging disk's free space.
    max_output_size: int | None = None
    #: Where each value came from, e.g. ("docker.endpoints.a.maxjobs", "/repo/config.toml").
    origins: tuple[tuple[str, str], ...] = ()

    def origin_of(self, dotted_key: str) -> str | None:
        return dict(self.origins).get(dotted_key)
