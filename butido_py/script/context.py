"""The template context: a package as butido serialises it to JSON for handlebars (§5.2).

Unset optional tables (`environment`, `allowed_images`, `denied_images`, `meta`) are absent,
not empty, so that strict mode reports references to them. Source URLs are normalised the way
the `url` crate serialises them (`https://example.com` becomes `https://example.com/`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from butido_py.package.model import Condition, Dependency, Package, Source

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_SPECIAL_SCHEMES = {*_DEFAULT_PORTS, "file"}


def package_context(package: Package) -> dict[str, object]:
    """The `this` object of a package's script template."""
    context: dict[str, object] = {
        "name": package.name,
        "version": package.version,
        "version_is_semver": package.version_is_semver,
        "sources": {source.name: _source(source) for source in package.sources},
        "dependencies": {
            "build": [_dependency(d) for d in package.build_dependencies],
            "runtime": [_dependency(d) for d in package.runtime_dependencies],
        },
        "patches": list(package.patches),
    }
    if package.environment is not None:
        context["environment"] = dict(package.environment)
    if package.allowed_images is not None:
        context["allowed_images"] = list(package.allowed_images)
    if package.denied_images is not None:
        context["denied_images"] = list(package.denied_images)
    context["phases"] = {
        phase.name: {"path": phase.path} if phase.path is not None else {"script": phase.script}
        for phase in package.phases
    }
    if package.meta is not None:
        context["meta"] = dict(package.meta)
    return context


def _source(source: Source) -> dict[str, object]:
    return {
        "url": normalize_url(source.url),
        "hash": {"type": source.hash_type.value, "hash": source.hash_value},
        "download_manually": source.download_manually,
    }


def _dependency(dependency: Dependency) -> object:
    text = dependency.text or f"{dependency.name} ={dependency.version}"
    if dependency.condition is None:
        return text
    return {"name": text, "condition": _condition(dependency.condition)}


def _condition(condition: Condition) -> dict[str, object]:
    result: dict[str, object] = {}
    if condition.has_env is not None:
        result["has_env"] = list(condition.has_env)
    if condition.env_eq is not None:
        result["env_eq"] = dict(condition.env_eq)
    if condition.in_image is not None:
        result["in_image"] = list(condition.in_image)
    return result


def normalize_url(url: str) -> str:
    """The serialisation of a parsed URL for the common cases (special schemes, host, path)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _SPECIAL_SCHEMES or not parts.netloc or parts.hostname is None:
        return url
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    result = f"{scheme}://{netloc}{parts.path or '/'}"
    if "?" in url.partition("#")[0]:
        result += f"?{parts.query}"
    if "#" in url:
        result += f"#{parts.fragment}"
    return result
