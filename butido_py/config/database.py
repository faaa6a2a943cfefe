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


_SUPPORTED = ("sqlite", *_POSTGRES_SCHEMES)
_ENCODE_HINT = (
    "a '@', '#', '/', '?' or ':' in the user or password must be percent-encoded "
    "(%40, %23, %2F, %3F, %3A), or use the database_host, database_user, database_password keys"
)


def url_problem(url: str) -> tuple[str, str] | None:
    """What is wrong with a database URL, and a hint; None when it can be used. Never quotes
    the URL (it may hold a password)."""
    scheme, found, rest = url.partition("://")
    if not found or not scheme:
        return "database_url is not a URL", "write it as postgresql://USER:PASSWORD@HOST/NAME"
    if scheme not in _SUPPORTED:
        return (
            f"database_url uses the driver {scheme!r}, which butido_py does not support",
            "use postgresql://USER:PASSWORD@HOST/NAME or sqlite:///PATH",
        )
    if scheme == "sqlite":
        return None
    parts = urlsplit(url)
    if parts.fragment or parts.netloc.count("@") > 1 or rest.split("?")[0].count("@") > 1:
        return "database_url cannot be parsed: its user or password is not encoded", _ENCODE_HINT
    try:
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError:
        return "database_url has a port that is not a number", _ENCODE_HINT
    return None


def redact_url(url: str) -> str:
    """The URL with its password replaced by `***`, for display; everything between the user
    and the last `@` of the location when the URL cannot be parsed (an unencoded password)."""
    scheme, found, rest = url.partition("://")
    location = rest.split("?")[0]
    if not found or "@" not in location:
        return url
    userinfo, _, after = rest.rpartition("@") if "?" not in rest else _split_at(rest)
    if ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{after}"


def _split_at(rest: str) -> tuple[str, str, str]:
    location, _, query = rest.partition("?")
    userinfo, at, after = location.rpartition("@")
    return userinfo, at, f"{after}?{query}"
