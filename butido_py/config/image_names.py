"""Image names as the user types them: a configured image's full name or its short name
(`-I tiny`, `-I deb11`). The one place that maps a short name to the full one, for `build -I`
(which requires a configured image) and for every filter (which also accepts others)."""

from __future__ import annotations

from butido_py.config.model import Config, ImageConfig


def configured_image(config: Config, image: str) -> ImageConfig | None:
    """The configured image called `image` (full or short name), if any."""
    for candidate in config.docker.images:
        if image in (candidate.name, candidate.short_name):
            return candidate
    return None


def filter_image_name(config: Config, image: str) -> str:
    """The full name to filter on: a configured image's full name, or `image` as given (the
    database and the endpoints also hold images that are no longer configured)."""
    found = configured_image(config, image)
    return image if found is None else found.name
