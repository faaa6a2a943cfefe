"""Which database to use: `database_url`, butido's `database_*` keys, `--db-*` flags, or SQLite."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from butido_py.config.model import DatabaseConfig
from butido_py.errors import ConfigError

POSTGRES_DRIVER = "postgresql+psycopg"
_POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg")


@dataclass(frozen=True, slots=True)
class DatabaseOverrides:
    """Global `--db-*` flags; each one wins over the matching configuration key."""

    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    name: str | None = None
    timeout: int | None = None

    @property
    def any(self) -> bool:
        return any(
            v is not None for v in (self.host, self.port, self.user, self.password, self.name)
        )


def database_url(db: DatabaseConfig, overrides: DatabaseOverrides, data_home: Path) -> str:
    """The SQLAlchemy URL to connect to. Passwords and names are URL-encoded (butido did not)."""
    timeout = overrides.timeout if overrides.timeout is not None else db.connection_timeout
    if db.url is not None and overrides.host is None:
        return _apply_overrides(_normalise(db.url, timeout), overrides)
    host = overrides.host or db.host
    if host is None:
        if overrides.any:
            raise ConfigError(
                "--db-* flags were given but no database host is known",
                hint="pass --db-url HOST or set database_host or database_url in config.toml",
            )
        return f"sqlite:///{data_home / 'butido.sqlite'}"
    user = overrides.user or db.user
    name = overrides.name or db.name
    if user is None or name is None:
        missing = " and ".join(
            k for k, v in (("database_user", user), ("database_name", name)) if v is None
        )
        raise ConfigError(
            f"database_host is set to {host!r} but {missing} is not",
            hint="set them in config.toml or pass --db-user/--db-name",
        )
    password = overrides.password if overrides.password is not None else db.password
    port = overrides.port or db.port
    credentials = quote(user, safe="")
    if password is not None:
        credentials += ":" + quote(password, safe="")
    query = urlencode({"connect_timeout": timeout})
    location = f"{_host_part(host)}:{port}/{quote(name, safe='')}"
    return f"{POSTGRES_DRIVER}://{credentials}@{location}?{query}"


def _host_part(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _normalise(url: str, timeout: int) -> str:
    parts = urlsplit(url)
    if parts.scheme not in _POSTGRES_SCHEMES:
        return url
    query = dict(parse_qsl(parts.query))
    query.setdefault("connect_timeout", str(timeout))
    return urlunsplit(parts._replace(scheme=POSTGRES_DRIVER, query=urlencode(query)))


def _apply_overrides(url: str, overrides: DatabaseOverrides) -> str:
    if not overrides.any:
        return url
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgresql"):
        raise ConfigError(
            f"--db-* flags only apply to PostgreSQL, but database_url is {redact_url(url)}",
            hint="remove the --db-* flags or change database_url",
        )
    user = overrides.user or unquote(parts.username or "")
    password = overrides.password if overrides.password is not None else parts.password
    credentials = quote(user, safe="")
    if password is not None:
        credentials += ":" + quote(unquote(password), safe="")
    port = overrides.port or parts.port
    netloc = f"{credentials}@{_host_part(parts.hostname or 'localhost')}"
    if port is not None:
        netloc += f":{port}"
    path = "/" + quote(overrides.name, safe="") if overrides.name else parts.path
    return urlunsplit(parts._replace(netloc=netloc, path=path))


def redact_url(url: str) -> str:
    """The URL with its password replaced by `***`, for display."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
