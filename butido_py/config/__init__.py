"""Configuration: the settings table, layering, validation and loading."""

from butido_py.config.load import LoadedConfig, load_config
from butido_py.config.model import (
    Config,
    ContainersConfig,
    DatabaseConfig,
    DockerConfig,
    EndpointConfig,
    EndpointType,
    ImageConfig,
    TlsConfig,
)

__all__ = [
    "Config",
    "ContainersConfig",
    "DatabaseConfig",
    "DockerConfig",
    "EndpointConfig",
    "EndpointType",
    "ImageConfig",
    "LoadedConfig",
    "TlsConfig",
    "load_config",
]
