"""The image of `-I IMAGE`: a configured image, named by its full or its short name."""

from __future__ import annotations

from butido_py.config.image_names import configured_image
from butido_py.config.model import Config
from butido_py.errors import UsageError, did_you_mean


def expand_image(config: Config, image: str) -> str:
    """The full name of the configured image called `image` (full or short name)."""
    found = configured_image(config, image)
    if found is not None:
        return found.name
    images = config.docker.images
    known = ", ".join(
        i.name if i.short_name == i.name else f"{i.name} ({i.short_name})" for i in images
    )
    raise UsageError(
        f"unknown image {image!r}; known images: {known or 'none configured'}",
        hint=(
            did_you_mean(image, [n for i in images for n in (i.name, i.short_name)])
            or "name one with -I (full or short name)"
        )
        if known
        else "configure images under [docker] images in config.toml",
    )
