"""Which database URL the configuration and the --db-* flags produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from butido_py.config.database import DatabaseOverrides, database_url, redact_url
from butido_py.config.model import DatabaseConfig
from butido_py.errors import ConfigError

HOME = Path("/data/butido")


def db(**changes: object) -> DatabaseConfig:
    values: dict[str, object] = {
        "url": None,
        "host": None,
        "port": 5432,
        "user": None,
        "password": None,
        "name": None,
        "connection_timeout": 30,
        "default_query_limit": 10,
    }
    values.update(changes)
    return DatabaseConfig(**values)  # type: ignore[arg-type]


def test_nothing_configured_means_sqlite_under_data_home() -> None:
    assert database_url(db(), DatabaseOverrides(), HOME) == "sqlite:////data/butido/butido.sqlite"


def test_butido_keys_build_a_postgres_url_with_encoding() -> None:
    config = db(host="db", port=6000, user="me@corp", password="p@ss:/w?rd", name="my db")
    assert database_url(config, DatabaseOverrides(), HOME) == (
        "postgresql+psycopg://me%40corp:p%40ss%3A%2Fw%3Frd@db:6000/my%20db?connect_timeout=30"
    )


def test_password_is_optional() -> None:
    url = database_url(db(host="db", user="u", name="n"), DatabaseOverrides(), HOME)
    assert url == "postgresql+psycopg://u@db:5432/n?connect_timeout=30"


def test_database_url_wins_over_host_keys_and_gets_the_driver() -> None:
    config = db(url="postgres://u:p@h/n", host="ignored", user="x", name="y")
    assert database_url(config, DatabaseOverrides(), HOME) == (
        "postgresql+psycopg://u:p@h/n?connect_timeout=30"
    )


def test_database_url_keeps_its_own_timeout() -> None:
    url = database_url(db(url="postgresql://h/n?connect_timeout=3"), DatabaseOverrides(), HOME)
    assert url.endswith("connect_timeout=3")


def test_sqlite_url_is_used_as_is() -> None:
    url = database_url(db(url="sqlite:////tmp/x.db"), DatabaseOverrides(), HOME)
    assert url == "sqlite:////tmp/x.db"


def test_cli_flags_win_over_configuration() -> None:
    config = db(host="db", user="u", password="p", name="n")
    overrides = DatabaseOverrides(
        host="other", port=7, user="v", password="q/r", name="m", timeout=3
    )
    assert database_url(config, overrides, HOME) == (
        "postgresql+psycopg://v:q%2Fr@other:7/m?connect_timeout=3"
    )


def test_cli_host_wins_over_database_url() -> None:
    overrides = DatabaseOverrides(host="h2", user="u", name="n")
    url = database_url(db(url="sqlite:///x"), overrides, HOME)
    assert url == "postgresql+psycopg://u@h2:5432/n?connect_timeout=30"


def test_cli_flags_apply_to_database_url() -> None:
    overrides = DatabaseOverrides(password="s@cret", name="other")
    url = database_url(db(url="postgresql://u:old@h:5433/n"), overrides, HOME)
    assert url == "postgresql+psycopg://u:s%40cret@h:5433/other?connect_timeout=30"


def test_cli_flags_do_not_apply_to_sqlite() -> None:
    with pytest.raises(ConfigError, match="only apply to PostgreSQL"):
        database_url(db(url="sqlite:///x"), DatabaseOverrides(user="u"), HOME)


def test_flags_without_any_host_are_an_error() -> None:
    with pytest.raises(ConfigError, match="no database host is known"):
        database_url(db(), DatabaseOverrides(user="u"), HOME)


@pytest.mark.parametrize(
    ("user", "name", "missing"), [(None, "n", "database_user"), ("u", None, "database_name")]
)
def test_host_without_user_or_name_is_an_error(
    user: str | None, name: str | None, missing: str
) -> None:
    with pytest.raises(ConfigError, match=f"but {missing} is not"):
        database_url(db(host="h", user=user, name=name), DatabaseOverrides(), HOME)


def test_ipv6_host_is_bracketed() -> None:
    url = database_url(db(host="::1", user="u", name="n"), DatabaseOverrides(), HOME)
    assert "@[::1]:5432/" in url


def test_redact_url_hides_the_password() -> None:
    assert redact_url("postgresql+psycopg://u:secret@h/n") == "postgresql+psycopg://u:***@h/n"
    assert redact_url("sqlite:////x") == "sqlite:////x"
