"""Reading the configuration files and the environment (the I/O half of configuration)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from butido_py.config.layers import (
    Layer,
    environment_layers,
    merge_layers,
    unknown_environment_names,
)
from butido_py.config.model import Config
from butido_py.config.validate import Surroundings, validate
from butido_py.errors import ConfigError

CONFIG_FILE_NAME = "config.toml"


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    config: Config
    repository_root: Path | None
    #: The sources that were read, lowest priority first.
    sources: tuple[str, ...]
    #: `BUTIDO_*` environment variables that are not configuration keys and were ignored.
    ignored_environment: tuple[str, ...]
    data_home: Path


def find_repository_root(start: Path) -> Path | None:
    """The closest directory at or above `start` that holds `.git` (a directory or a file)."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def xdg_config_home(environ: Mapping[str, str]) -> Path:
    value = environ.get("XDG_CONFIG_HOME")
    return Path(value) if value else Path(environ.get("HOME", "~")).expanduser() / ".config"


def xdg_data_home(environ: Mapping[str, str]) -> Path:
    value = environ.get("XDG_DATA_HOME")
    return Path(value) if value else Path(environ.get("HOME", "~")).expanduser() / ".local/share"


def read_toml_layer(path: Path) -> Layer:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: configuration is not valid UTF-8 ({exc.reason})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid TOML: {exc}", hint="fix the syntax at the line and column shown"
        ) from exc
    return Layer(str(path), data)


def configuration_files(
    cwd: Path, environ: Mapping[str, str], config_file: Path | None
) -> tuple[Path | None, list[Path]]:
    """The repository root and the configuration files to read, lowest priority first."""
    root = find_repository_root(cwd)
    files: list[Path] = []
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(
                f"{config_file}: configuration file not found", hint="check the --config path"
            )
        files.append(config_file)
    elif root is not None and (root / CONFIG_FILE_NAME).is_file():
        files.append(root / CONFIG_FILE_NAME)
    user_file = xdg_config_home(environ) / "butido" / CONFIG_FILE_NAME
    if user_file.is_file():
        files.append(user_file)
    return root, files


def load_config(
    *, cwd: Path, environ: Mapping[str, str], config_file: Path | None = None
) -> LoadedConfig:
    root, files = configuration_files(cwd, environ, config_file)
    layers = [read_toml_layer(path) for path in files] + environment_layers(environ)
    if not layers:
        where = (
            f"create {root / CONFIG_FILE_NAME}"
            if root is not None
            else "run butido inside a package repository (a git work tree) that has a config.toml"
        )
        raise ConfigError(
            "no butido configuration found",
            hint=f"{where}, or pass --config FILE; config/config.toml in the butido_py sources "
            "documents every key",
        )
    merged = merge_layers(layers)
    data_home = xdg_data_home(environ) / "butido"
    surroundings = Surroundings(
        base_dir=root if root is not None else cwd,
        data_home=data_home,
        docker_host=environ.get("DOCKER_HOST"),
    )
    return LoadedConfig(
        config=validate(merged, surroundings),
        repository_root=root,
        sources=tuple(merged.sources),
        ignored_environment=tuple(unknown_environment_names(environ)),
        data_home=data_home,
    )
