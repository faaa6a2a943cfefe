"""butido_py: a reproducible container-build orchestrator compatible with butido."""

__version__ = "0.1.0"

#: The configuration format version this release understands (butido's `compatibility` key).
CONFIGURATION_VERSION = 1
