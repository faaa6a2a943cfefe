"""The table of configuration settings.

One table drives validation (which keys exist, their kind and default), `BUTIDO_<KEY>` environment
overrides, "did you mean" hints, `butido config show` and the reference documentation test.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class ValueKind(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    PATH = "path"
    STRING_LIST = "list of strings"
    TABLE = "table"
    TABLE_LIST = "list of tables"
    TABLE_MAP = "table of tables"


class _Required:
    """Marker for settings without a default."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final = _Required()


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    kind: ValueKind
    default: object
    help: str

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


DEFAULT_PROGRESS_FORMAT: Final = "{elapsed_precise} {percent:>3}% {bar:5.cyan/blue} | {msg}"

#: butido's own default (src/config/util.rs, after `indoc!`), byte for byte: a repository's
#: `find-pkg`, `what-depends` and `dependencies-of` output stays what butido prints.
DEFAULT_PACKAGE_PRINT_FORMAT: Final = """\
{{i}} - {{p.name}} : {{p.version}}
{{~ #if print_any }}
==================================

{{~#if print_sources}}
Sources:
    {{#each p.sources ~}}
        {{~@key}} = {{this.url}} - {{this.hash.hash}} ({{this.hash.type}})
    {{/each~}}
{{/if~}}
{{~#if print_dependencies}}
Dependencies:
    {{#if print_build_deps ~}}
        {{~ #each p.dependencies.build}}
            {{~ this}} (build)
    {{/each ~}}
    {{/if ~}}
    {{~ #if print_runtime_deps ~}}
        {{~ #each p.dependencies.runtime}}
            {{~ this}} (runtime)
    {{/each ~}}
    {{/if ~}}
{{/if}}
{{~#if print_patches}}
Patches:
    {{#each p.patches}}{{this}},
    {{/each~}}
{{/if}}
{{~#if print_env}}
Environment:
    {{#each p.environment}}{{@key}}={{this}}
    {{/each~}}
{{/if~}}
{{~#if print_flags}}
Flags:
    {{#each p.flags}}{{this}}
    {{/each~}}
{{/if~}}
{{~#if print_allowed_images}}
Only supported on:
    {{#each p.allowed_images}}{{this}}
    {{/each~}}
{{/if~}}
{{~#if print_denied_images}}
Denied on:
    {{#each p.denied_images}}{{this}}
    {{/each~}}
{{/if~}}
{{~#if print_phases}}
Phases:
    {{#each p.phases}}{{@key}}
    {{/each~}}
{{/if~}}
{{~#if print_script}}
{{script}}
{{/if~}}
{{~ /if ~}}
"""

#: butido's theme names (syntect) and the Pygments style each one is rendered with.
SCRIPT_THEMES: Final[dict[str, str]] = {
    "base16-ocean.dark": "nord",
    "base16-eighties.dark": "monokai",
    "base16-mocha.dark": "gruvbox-dark",
    "base16-ocean.light": "gruvbox-light",
    "InspiredGitHub": "default",
    "Solarized (dark)": "solarized-dark",
    "Solarized (light)": "solarized-light",
}

#: Bytes of a job's log stored at most by default (config key max_log_size).
DEFAULT_MAX_LOG_SIZE: Final = 1 << 30

TOP_LEVEL: Final[tuple[Setting, ...]] = (
    Setting("compatibility", ValueKind.INTEGER, REQUIRED,
            "Configuration format version; must be 1."),
    Setting("log_dir", ValueKind.PATH, None,
            "Directory for --write-log files. Default: $XDG_DATA_HOME/butido/logs."),
    Setting("strict_script_interpolation", ValueKind.BOOLEAN, True,
            "A package script that references a missing template variable is an error."),
    Setting("progress_format", ValueKind.STRING, DEFAULT_PROGRESS_FORMAT,
            "Progress bar template (butido/indicatif syntax; kept for compatibility)."),
    Setting("package_print_format", ValueKind.STRING, DEFAULT_PACKAGE_PRINT_FORMAT,
            "Handlebars template used by find-pkg, what-depends and dependencies-of."),
    Setting("build_error_lines", ValueKind.INTEGER, 10,
            "Number of log lines printed for each failed job."),
    Setting("script_highlight_theme", ValueKind.STRING, None,
            "Theme for highlighted scripts; one of butido's theme names."),
    Setting("script_linter", ValueKind.PATH, None,
            "Linter executable that receives each rendered script on stdin."),
    Setting("shebang", ValueKind.STRING, "#!/bin/bash",
            "First line of every rendered script."),
    Setting("releases_root", ValueKind.PATH, None,
            "Root of the release stores. Default: $XDG_DATA_HOME/butido/releases."),
    Setting("release_stores", ValueKind.STRING_LIST, ("default",),
            "Names of the release stores (directories under releases_root)."),
    Setting("staging", ValueKind.PATH, None,
            "Root of the staging stores. Default: $XDG_DATA_HOME/butido/staging."),
    Setting("source_cache", ValueKind.PATH, None,
            "Directory of downloaded sources. Default: $XDG_DATA_HOME/butido/sources."),
    Setting("database_url", ValueKind.STRING, None,
            "SQLAlchemy database URL; wins over the database_host group of keys."),
    Setting("database_host", ValueKind.STRING, None, "PostgreSQL host."),
    Setting("database_port", ValueKind.INTEGER, 5432, "PostgreSQL port."),
    Setting("database_user", ValueKind.STRING, None, "PostgreSQL user."),
    Setting("database_password", ValueKind.STRING, None, "PostgreSQL password."),
    Setting("database_name", ValueKind.STRING, None, "PostgreSQL database name."),
    Setting("database_connection_timeout", ValueKind.INTEGER, 30,
            "Seconds to wait for a database connection."),
    Setting("database_default_query_limit", ValueKind.INTEGER, 10,
            "Default --limit of the db listings; 0 means unlimited."),
    Setting("database_retry_seconds", ValueKind.INTEGER, 120,
            "Seconds a build retries the database through an outage before it fails."),
    Setting("available_phases", ValueKind.STRING_LIST, REQUIRED,
            "Ordered list of the script phases."),
    Setting("heartbeat_timeout", ValueKind.INTEGER, 600,
            "Seconds without a heartbeat after which a running submit of another host is lost."),
    Setting("max_log_size", ValueKind.INTEGER, DEFAULT_MAX_LOG_SIZE,
            "Bytes of a job's log stored at most; the rest is cut with a marker. 0: no limit."),
    Setting("max_output_size", ValueKind.INTEGER, 0,
            "Bytes the outputs of one job may have together; 0 means unlimited."),
    Setting("docker", ValueKind.TABLE, None, "Docker images and endpoints."),
    Setting("containers", ValueKind.TABLE, None, "Environment passed to job containers."),
)  # fmt: skip

DOCKER: Final[tuple[Setting, ...]] = (
    Setting("docker_versions", ValueKind.STRING_LIST, None,
            "If set, an endpoint's Docker version must be one of these."),
    Setting("docker_api_versions", ValueKind.STRING_LIST, None,
            "If set, an endpoint's Docker API version must be one of these."),
    Setting("images", ValueKind.TABLE_LIST, (),
            "Images builds may use: list of { name, short_name }."),
    Setting("endpoints", ValueKind.TABLE_MAP, None,
            "Docker endpoints by name. None configured: one endpoint 'local' (DOCKER_HOST)."),
    Setting("job_attempts", ValueKind.INTEGER, 3,
            "Tries of a job whose endpoint failed (not its script), each on another endpoint."),
    Setting("quarantine_after", ValueKind.INTEGER, 2,
            "Consecutive infrastructure failures after which an endpoint is quarantined."),
    Setting("quarantine_seconds", ValueKind.INTEGER, 300,
            "First quarantine of an endpoint; doubled for each further failure."),
    Setting("job_timeout", ValueKind.STRING, None,
            "Default time a job may run, e.g. 90m or 2h (none: no limit); build --timeout and "
            "a package's meta job_timeout override it."),
)  # fmt: skip

IMAGE: Final[tuple[Setting, ...]] = (
    Setting("name", ValueKind.STRING, REQUIRED, "Full image name, e.g. debian:bookworm."),
    Setting("short_name", ValueKind.STRING, REQUIRED, "Short name accepted by -I, e.g. deb12."),
)

ENDPOINT: Final[tuple[Setting, ...]] = (
    Setting("uri", ValueKind.STRING, REQUIRED,
            "unix:///path or a socket path (socket); tcp://host:port or http(s):// (http)."),
    Setting("endpoint_type", ValueKind.STRING, REQUIRED, "'socket' or 'http'."),
    Setting("maxjobs", ValueKind.INTEGER, REQUIRED, "Maximum number of jobs run at once."),
    Setting("network_mode", ValueKind.STRING, "none",
            "Network of job containers: none, bridge, host, container:<id> or a network name."),
    Setting("timeout", ValueKind.INTEGER, 10,
            "Seconds allowed for the endpoint's start-up checks."),
    Setting("tls_verify", ValueKind.BOOLEAN, False,
            "http endpoints: use TLS and verify the server against tls_ca_cert."),
    Setting("tls_ca_cert", ValueKind.PATH, None, "http endpoints: CA certificate (PEM)."),
    Setting("tls_client_cert", ValueKind.PATH, None, "http endpoints: client certificate (PEM)."),
    Setting("tls_client_key", ValueKind.PATH, None, "http endpoints: client key (PEM)."),
)  # fmt: skip

CONTAINERS: Final[tuple[Setting, ...]] = (
    Setting("check_env_names", ValueKind.BOOLEAN, False,
            "Refuse environment variables whose names are not in allowed_env."),
    Setting("allowed_env", ValueKind.STRING_LIST, (), "Allowed environment variable names."),
    Setting("git_author", ValueKind.STRING, None,
            "Name of the variable that receives the repository's git user.name."),
    Setting("git_commit_hash", ValueKind.STRING, None,
            "Name of the variable that receives the pinned commit hash."),
    Setting("source_date_epoch", ValueKind.STRING, "per-package",
            "SOURCE_DATE_EPOCH of the jobs: per-package, commit, or a fixed integer."),
)  # fmt: skip


def find_setting(table: tuple[Setting, ...], key: str) -> Setting | None:
    for setting in table:
        if setting.key == key:
            return setting
    return None
