"""The `compatibility` check, done before any other validation (as butido does)."""

from __future__ import annotations

from typing import Final

from butido_py import CONFIGURATION_VERSION
from butido_py.errors import ConfigError

#: What changed in each configuration version (butido's CHANGELOG.toml).
CHANGELOG: Final[dict[int, str]] = {
    0: "This version was never used",
    1: "The format of the compatibility setting has changed from a string (semver::VersionReq) "
    "to a number (u16).",
}


def check_compatibility(value: object, origin: str) -> int:
    """Return the configured version or raise with butido's messages and a hint."""
    if value is None:
        raise ConfigError(
            'Make sure that the butido configuration is present and that "compatibility" is set',
            hint=f"add `compatibility = {CONFIGURATION_VERSION}` to the repository's config.toml",
        )
    version = _as_version(value)
    if version is None:
        raise ConfigError(
            f"{origin}: compatibility: {value!r} is not a number; the format of the compatibility "
            "setting has changed from a string to a number",
            hint='set "compatibility" to 0 to get a summary of the required changes',
        )
    if version > CONFIGURATION_VERSION:
        raise ConfigError(
            f"{origin}: compatibility = {version}: this version of butido is too old for your "
            f"configuration (it understands version {CONFIGURATION_VERSION})",
            hint="upgrade butido_py",
        )
    if version < CONFIGURATION_VERSION:
        raise ConfigError(
            f"{origin}: compatibility = {version}: the butido configuration is too old and the "
            "following changes are required:\n"
            + "".join(required_changes(version))
            + f"- Update the compatibility setting to `{CONFIGURATION_VERSION}`",
        )
    return version


def required_changes(version: int) -> list[str]:
    return [
        f"- Version {number}: {CHANGELOG[number]}\n"
        for number in range(version + 1, CONFIGURATION_VERSION + 1)
    ]


def _as_version(value: object) -> int | None:
    # butido reads the key as text and parses it as u16, so "1" is as good as 1.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 65535 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number <= 65535 else None
    return None
